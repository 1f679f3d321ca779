package dev.podserve.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Adds the parentheses Jinja's precedence implies where Jinjava parses differently, and rewrites what
 * Jinjava lacks, before the template reaches Jinjava. Constructs real chat templates use that go wrong there:
 * <ul>
 *   <li>{@code not} binds tighter than comparisons, tests and filters, so {@code not a == b} is
 *       read {@code (not a) == b} and {@code not x is defined} is always true: the operand is
 *       wrapped, {@code not (a == b)}.</li>
 *   <li>A keyword argument ends at its first operator, so {@code namespace(last=messages|length - 1)}
 *       fails: the value is wrapped, {@code last=(messages|length - 1)}.</li>
 *   <li>Slices with a step do not parse; the one templates use, {@code xs[::-1]}, becomes
 *       {@code (xs|reverse)}.</li>
 *   <li>A test after a filter does not parse: {@code x|length is number} becomes
 *       {@code (x|length) is number}.</li>
 *   <li>A string literal times a count ({@code '  ' * depth}) is a number error: it becomes the
 *       {@code podserve_repeat} filter.</li>
 *   <li>Loop filters and a loop's {@code else}: see {@link JinjaLoops}.</li>
 * </ul>
 * Only expressions holding such an operator are touched; everything else is left byte for byte,
 * but for the blanks Jinja's lstrip_blocks takes (HuggingFace renders with it on; see rewrite).
 */
final class JinjaCompat {

    private static final Pattern RAW_END = Pattern.compile("\\{%[-+]?\\s*endraw\\s*[-+]?%}");
    /** Operators that bind tighter than {@code not} in Jinja (and {@code .}, which Jinjava gets right, is absent). */
    private static final Set<String> BINARY = Set.of("|", "==", "!=", "<", ">", "<=", ">=", "in", "is", "+", "-", "*",
            "/", "//", "%", "**", "~");
    private static final Set<String> VALUE_OPERATORS = union(BINARY, Set.of("and", "or", "not", "if", "else"));
    private static final Set<String> NOT_CALLABLE = Set.of("in", "is", "and", "or", "not", "if", "else");

    private JinjaCompat() {
    }

    static String rewrite(String template) {
        List<Object> pieces = new ArrayList<>();
        StringBuilder text = new StringBuilder(template.length() + 16);
        int i = 0;
        int n = template.length();
        while (i < n) {
            int open = template.indexOf('{', i);
            if (open < 0 || open + 1 >= n) break;
            char kind = template.charAt(open + 1);
            if (kind == '#' || (kind == '%' && (open + 2 >= n || template.charAt(open + 2) != '+'))) {
                // Jinja's lstrip_blocks, done here on the template's text only (never inside a tag, a
                // string or a raw block): the spaces and tabs between a line's start and a block tag
                // or comment go, and no others. Jinjava's own option also takes the blanks before a
                // tag in the middle of a line ({{ content }} {% endfor %}) and so loses prompt text.
                int cut = open;
                while (cut > i && (template.charAt(cut - 1) == ' ' || template.charAt(cut - 1) == '\t')) cut--;
                if (cut < open && (cut == 0 || template.charAt(cut - 1) == '\n')) {
                    text.append(template, i, cut);
                    i = open;
                }
            }
            if (kind == '#') {
                int end = template.indexOf("#}", open + 2);
                int stop = end < 0 ? n : end + 2;
                text.append(template, i, stop);
                i = stop;
                continue;
            }
            if (kind != '{' && kind != '%') {
                text.append(template, i, open + 1);
                i = open + 1;
                continue;
            }
            int start = open + 2;
            if (start < n && (template.charAt(start) == '-' || template.charAt(start) == '+')) start++;
            int close = closing(template, start, kind == '{' ? '}' : '%');
            if (close < 0) break;
            int end = close;
            if (end > start && (template.charAt(end - 1) == '-' || template.charAt(end - 1) == '+')) end--;
            String code = template.substring(start, end);
            text.append(template, i, open);
            String tag = kind == '%' ? firstWord(code) : "";
            String rewritten = tag.equals("macro") || tag.equals("call") ? code : rewriteExpression(code);
            if (kind == '%') {
                pieces.add(text.toString());
                text.setLength(0);
                pieces.add(new JinjaLoops.Tag(template.substring(open, start), tag, rewritten, template.substring(end, close + 2)));
            } else {
                text.append(template, open, start).append(rewritten).append(template, end, close + 2);
            }
            i = close + 2;
            if (tag.equals("raw")) {
                Matcher m = RAW_END.matcher(template);
                int stop = m.find(i) ? m.end() : n;
                text.append(template, i, stop);
                i = stop;
            }
        }
        pieces.add(text.append(template, i, n).toString());
        return JinjaLoops.render(pieces);
    }

    /** Index of the closing delimiter ({@code }}} or {@code %}}) outside strings and brackets, or -1. */
    private static int closing(String s, int from, char first) {
        int depth = 0;
        for (int i = from; i < s.length() - 1; i++) {
            char c = s.charAt(i);
            if (c == '\'' || c == '"') {
                i = stringEnd(s, i) - 1;
            } else if (depth == 0 && c == first && s.charAt(i + 1) == '}') {
                return i;
            } else if (c == '(' || c == '[' || c == '{') {
                depth++;
            } else if ((c == ')' || c == ']' || c == '}') && depth > 0) {
                depth--;
            }
        }
        return -1;
    }

    private static int stringEnd(String s, int quoteAt) {
        char q = s.charAt(quoteAt);
        int i = quoteAt + 1;
        while (i < s.length() && s.charAt(i) != q) i += s.charAt(i) == '\\' ? 2 : 1;
        return Math.min(i + 1, s.length());
    }

    private static String firstWord(String code) {
        String t = code.strip();
        int end = 0;
        while (end < t.length() && Character.isJavaIdentifierPart(t.charAt(end))) end++;
        return t.substring(0, end);
    }

    record Token(String text, int start, int end) {
    }

    static String rewriteExpression(String code) {
        code = repeatedStrings(reverseSlices(code));
        List<Token> tokens = tokenize(code);
        TreeMap<Integer, StringBuilder> inserts = new TreeMap<>();
        for (int i = 0; i < tokens.size(); i++) {
            String t = tokens.get(i).text();
            if (t.equals("not") && !(i > 0 && tokens.get(i - 1).text().equals("is"))
                    && !(i + 1 < tokens.size() && tokens.get(i + 1).text().equals("in"))) {
                int end = operandEnd(tokens, i + 1, Set.of("and", "or", "if", "else", ","));
                if (containsAtTop(tokens, i + 1, end, BINARY)) wrap(tokens, i + 1, end, inserts);
            } else if (t.equals("(") && i > 0 && isCallee(tokens.get(i - 1).text())) {
                wrapKeywordValues(tokens, i, inserts);
            } else if (t.equals("is") && i > 0) {
                // A test applies to the whole filter chain before it (x|length is number); Jinjava
                // cannot parse a test after a filter at all.
                int start = filterChainStart(tokens, i);
                if (start >= 0 && containsAtTop(tokens, start, i, Set.of("|"))) wrap(tokens, start, i, inserts);
            }
        }
        if (inserts.isEmpty()) return code;
        StringBuilder sb = new StringBuilder(code);
        for (var e : inserts.descendingMap().entrySet()) sb.insert(e.getKey(), e.getValue());
        return sb.toString();
    }

    private static final List<String> REVERSE_SLICE = List.of("[", ":", ":", "-", "1", "]");

    private static String reverseSlices(String code) {
        List<Token> tokens = tokenize(code);
        for (int i = tokens.size() - REVERSE_SLICE.size(); i > 0; i--) {
            boolean match = true;
            for (int k = 0; k < REVERSE_SLICE.size() && match; k++) match = tokens.get(i + k).text().equals(REVERSE_SLICE.get(k));
            if (!match) continue;
            int start = postfixStart(tokens, i);
            if (start < 0) continue;
            String operand = code.substring(tokens.get(start).start(), tokens.get(i).start());
            String rest = code.substring(tokens.get(i + REVERSE_SLICE.size() - 1).end());
            // Rewritten from the right, so earlier matches keep their offsets; the re-scan picks up nesting.
            return reverseSlices(code.substring(0, tokens.get(start).start()) + "(" + operand + "|reverse)" + rest);
        }
        return code;
    }

    /** Start of the operand and its filters ({@code x.y|f(1)|g}) that end just before token {@code end}, or -1. */
    private static int filterChainStart(List<Token> tokens, int end) {
        int i = end;
        while (true) {
            int start = postfixStart(tokens, i);
            if (start <= 0 || !tokens.get(start - 1).text().equals("|")) return start;
            i = start - 1;
        }
    }

    /** What ends the right operand of {@code *}: operators that bind as loosely or looser. */
    private static final Set<String> AFTER_PRODUCT = Set.of("+", "-", "*", "/", "//", "%", "~", "==", "!=", "<", ">",
            "<=", ">=", "in", "is", "and", "or", "not", "if", "else", ",", ":");

    /**
     * Python repeats a string multiplied by an integer ({@code '  ' * depth}); Jinjava only multiplies
     * numbers. Where one side of a {@code *} is a string literal, the product becomes the
     * {@code podserve_repeat} filter ({@link PythonFilters}).
     */
    private static String repeatedStrings(String code) {
        List<Token> tokens = tokenize(code);
        for (int k = 1; k + 1 < tokens.size(); k++) {
            if (!tokens.get(k).text().equals("*")) continue;
            Token before = tokens.get(k - 1);
            Token after = tokens.get(k + 1);
            String literal;
            int from;
            int to;
            String count;
            if (isString(before.text()) && (k < 2 || !completesOperand(tokens.get(k - 2).text()))) {
                int countFrom = after.text().equals("-") || after.text().equals("+") ? k + 2 : k + 1;
                int end = operandEnd(tokens, countFrom, AFTER_PRODUCT);
                if (end <= k + 1) continue;
                literal = before.text();
                from = before.start();
                to = tokens.get(end - 1).end();
                count = code.substring(after.start(), to);
            } else if (isString(after.text()) && (k + 2 >= tokens.size() || !Set.of(".", "[", "(", "|", "**").contains(tokens.get(k + 2).text()))) {
                int start = Character.isDigit(before.text().charAt(0)) ? k - 1 : postfixStart(tokens, k);
                if (start < 0 || (start > 0 && Set.of(".", "|", "**").contains(tokens.get(start - 1).text()))) continue;
                literal = after.text();
                from = tokens.get(start).start();
                to = after.end();
                count = code.substring(from, before.end());
            } else {
                continue;
            }
            return repeatedStrings(code.substring(0, from) + "(" + literal + "|podserve_repeat(" + count + "))" + code.substring(to));
        }
        return code;
    }

    private static boolean isString(String token) {
        return token.startsWith("'") || token.startsWith("\"");
    }

    /** Whether a token can end an operand, so that a {@code *} after the next token is not its start. */
    private static boolean completesOperand(String token) {
        return isOperandEnd(token) || isString(token) || Character.isDigit(token.charAt(0));
    }

    /** Start of the name, attribute, index and call chain that ends just before token {@code end}, or -1. */
    private static int postfixStart(List<Token> tokens, int end) {
        int i = end - 1;
        while (i >= 0) {
            String t = tokens.get(i).text();
            if (t.equals(")") || t.equals("]")) {
                i = matchingOpen(tokens, i);
                if (i < 0) return -1;
                if (i > 0 && !tokens.get(i - 1).text().equals(".") && isOperandEnd(tokens.get(i - 1).text())) {
                    i--;
                    continue;
                }
                return i;
            }
            if (!isIdentifier(t) && !t.startsWith("'") && !t.startsWith("\"")) return -1;
            if (i > 0 && tokens.get(i - 1).text().equals(".")) {
                i -= 2;
                continue;
            }
            return i;
        }
        return -1;
    }

    private static boolean isOperandEnd(String t) {
        return t.equals(")") || t.equals("]") || isIdentifier(t);
    }

    private static int matchingOpen(List<Token> tokens, int close) {
        int depth = 0;
        for (int i = close; i >= 0; i--) {
            String t = tokens.get(i).text();
            if (t.equals(")") || t.equals("]") || t.equals("}")) depth++;
            else if ((t.equals("(") || t.equals("[") || t.equals("{")) && --depth == 0) return i;
        }
        return -1;
    }

    private static boolean isCallee(String previous) {
        return previous.equals(")") || previous.equals("]")
                || (Character.isJavaIdentifierStart(previous.charAt(0)) && !NOT_CALLABLE.contains(previous));
    }

    private static void wrapKeywordValues(List<Token> tokens, int paren, TreeMap<Integer, StringBuilder> inserts) {
        int i = paren + 1;
        while (i < tokens.size() && !tokens.get(i).text().equals(")")) {
            int argEnd = operandEnd(tokens, i, Set.of(","));
            if (argEnd - i >= 3 && isIdentifier(tokens.get(i).text()) && tokens.get(i + 1).text().equals("=")
                    && containsAtTop(tokens, i + 2, argEnd, VALUE_OPERATORS)) {
                wrap(tokens, i + 2, argEnd, inserts);
            }
            if (argEnd >= tokens.size() || !tokens.get(argEnd).text().equals(",")) return;
            i = argEnd + 1;
        }
    }

    /** First token index at or after {@code from} that closes the enclosing bracket or is a stop word at depth 0. */
    private static int operandEnd(List<Token> tokens, int from, Set<String> stops) {
        int depth = 0;
        for (int i = from; i < tokens.size(); i++) {
            String t = tokens.get(i).text();
            if (t.equals("(") || t.equals("[") || t.equals("{")) {
                depth++;
            } else if (t.equals(")") || t.equals("]") || t.equals("}")) {
                if (depth == 0) return i;
                depth--;
            } else if (depth == 0 && stops.contains(t)) {
                return i;
            }
        }
        return tokens.size();
    }

    private static boolean containsAtTop(List<Token> tokens, int from, int to, Set<String> operators) {
        int depth = 0;
        for (int i = from; i < to; i++) {
            String t = tokens.get(i).text();
            if (t.equals("(") || t.equals("[") || t.equals("{")) depth++;
            else if (t.equals(")") || t.equals("]") || t.equals("}")) depth--;
            else if (depth == 0 && operators.contains(t)) return true;
        }
        return false;
    }

    private static void wrap(List<Token> tokens, int from, int to, TreeMap<Integer, StringBuilder> inserts) {
        if (from >= to) return;
        // Opening parens go after any closing ones already at the same offset, so nesting stays balanced.
        inserts.computeIfAbsent(tokens.get(from).start(), k -> new StringBuilder()).append('(');
        inserts.computeIfAbsent(tokens.get(to - 1).end(), k -> new StringBuilder()).insert(0, ')');
    }

    private static boolean isIdentifier(String t) {
        return Character.isJavaIdentifierStart(t.charAt(0)) && !VALUE_OPERATORS.contains(t);
    }

    static List<Token> tokenize(String code) {
        List<Token> tokens = new ArrayList<>();
        int i = 0;
        int n = code.length();
        while (i < n) {
            char c = code.charAt(i);
            int start = i;
            if (Character.isWhitespace(c)) {
                i++;
                continue;
            }
            if (c == '\'' || c == '"') {
                i = stringEnd(code, i);
            } else if (Character.isJavaIdentifierStart(c)) {
                while (i < n && Character.isJavaIdentifierPart(code.charAt(i))) i++;
            } else if (Character.isDigit(c)) {
                while (i < n && (Character.isLetterOrDigit(code.charAt(i)) || code.charAt(i) == '.')) i++;
            } else if (i + 1 < n && Set.of("**", "//", "==", "!=", "<=", ">=").contains(code.substring(i, i + 2))) {
                i += 2;
            } else {
                i++;
            }
            tokens.add(new Token(code.substring(start, i), start, i));
        }
        return tokens;
    }

    private static Set<String> union(Set<String> a, Set<String> b) {
        Set<String> all = new java.util.HashSet<>(a);
        all.addAll(b);
        return Set.copyOf(all);
    }
}
