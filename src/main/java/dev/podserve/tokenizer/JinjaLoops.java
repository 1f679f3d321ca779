package dev.podserve.tokenizer;

import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Jinja's two {@code for} forms Jinjava lacks, rewritten into forms it has. Both are used by real chat
 * templates (GLM-4's {@code for message in messages if message.role != 'system'}), and Jinjava gets
 * both wrong silently: it reads a loop filter as a conditional expression without an else, and renders
 * an {@code else} inside a loop as if it were not there.
 * <ul>
 *   <li>A loop filter first collects the items that pass into a list, then loops over that list, so
 *       {@code loop.index}, {@code loop.length} and {@code loop.last} count the filtered items as
 *       Jinja's do.</li>
 *   <li>A loop's {@code else} becomes an {@code if} after the loop on a flag set where the loop body
 *       ends (so an iteration left by {@code break} or {@code continue} does not set it, as in Jinja).</li>
 * </ul>
 * Works on the tags {@link JinjaCompat} scanned; every other tag and all text pass through unchanged.
 */
final class JinjaLoops {

    /** One block tag: {@code opener} is {@code {%} with its whitespace flag, {@code closer} {@code %}} with its. */
    record Tag(String opener, String name, String code, String closer) {
        String text() {
            return opener + code + closer;
        }
    }

    /** Tags that open a block closed by {@code end<name>} ({@code raw} is consumed whole by the scanner). */
    private static final Set<String> BLOCKS = Set.of("for", "if", "macro", "call", "filter", "generation", "with",
            "block", "autoescape", "trans");

    private JinjaLoops() {
    }

    /** @param pieces the template in order: text as {@link String}, block tags as {@link Tag} */
    static String render(List<Object> pieces) {
        Map<Integer, Integer> elseOfFor = new HashMap<>();
        Map<Integer, Integer> endOfFor = new HashMap<>();
        Deque<Integer> open = new ArrayDeque<>();
        for (int p = 0; p < pieces.size(); p++) {
            if (!(pieces.get(p) instanceof Tag t)) continue;
            if (BLOCKS.contains(t.name()) || (t.name().equals("set") && !assigns(t.code()))) {
                open.push(p);
            } else if (t.name().startsWith("end") && !open.isEmpty()) {
                endOfFor.put(open.pop(), p);
            } else if (t.name().equals("else") && !open.isEmpty() && ((Tag) pieces.get(open.peek())).name().equals("for")) {
                elseOfFor.putIfAbsent(open.peek(), p);
            }
        }

        StringBuilder out = new StringBuilder();
        Map<Integer, String> flagAt = new HashMap<>(); // the else and end tags of a rewritten loop with an else
        int rewritten = 0;
        for (int p = 0; p < pieces.size(); p++) {
            Object piece = pieces.get(p);
            if (piece instanceof String text) {
                out.append(text);
                continue;
            }
            Tag t = (Tag) piece;
            if (t.name().equals("for")) {
                Integer elseAt = elseOfFor.get(p);
                Integer endAt = endOfFor.get(p);
                String flag = elseAt != null && endAt != null ? "podserve_loop_ran_" + (++rewritten) : null;
                String loop = forLoop(t, flag, "podserve_loop_items_" + (++rewritten));
                if (loop != null && flag != null) {
                    flagAt.put(elseAt, flag);
                    flagAt.put(endAt, flag);
                }
                out.append(loop != null ? loop : t.text());
            } else if (flagAt.containsKey(p) && t.name().equals("else")) {
                // The flag is set where the body ends, as Jinja sets its own: an iteration left by break
                // or continue does not count, so a loop that breaks in its first one still runs the else.
                out.append(t.opener()).append(" set ").append(flagAt.get(p)).append(".ran = true %}{% endfor %}{% if not ")
                        .append(flagAt.get(p)).append(".ran ").append(t.closer());
            } else if (flagAt.containsKey(p)) {
                out.append(t.opener()).append(" endif ").append(t.closer());
            } else {
                out.append(t.text());
            }
        }
        return out.toString();
    }

    /**
     * The for tag as Jinjava can run it, or null when it needs no rewrite (no filter, no else) or has a
     * form left to Jinjava ({@code recursive}).
     */
    private static String forLoop(Tag t, String flag, String items) {
        List<JinjaCompat.Token> tokens = JinjaCompat.tokenize(t.code());
        if (tokens.isEmpty() || !tokens.get(0).text().equals("for")) return null;
        if (tokens.get(tokens.size() - 1).text().equals("recursive")) return null;
        int in = topLevel(tokens, 1, "in");
        if (in < 0) return null;
        // Jinja reads the iterable without conditional expressions, so the first 'if' after it is the filter.
        int filter = topLevel(tokens, in + 1, "if");
        if (filter < 0 && flag == null) return null;
        String code = t.code();
        String target = code.substring(tokens.get(1).start(), tokens.get(in).start()).strip();
        String iterable = filter < 0 ? code.substring(tokens.get(in).end()).strip()
                : code.substring(tokens.get(in).end(), tokens.get(filter).start()).strip();
        StringBuilder s = new StringBuilder(t.opener());
        String loopOver = iterable;
        if (filter >= 0) {
            String condition = code.substring(tokens.get(filter).end()).strip();
            String outer = outerLoop(condition, items + "_outer");
            if (!outer.equals(condition)) {
                // In the filter, loop is the enclosing loop's: the collecting loop below would shadow it.
                s.append(" set ").append(items).append("_outer = loop %}{%");
                condition = outer;
            }
            String item = target;
            if (item.startsWith("(") && item.endsWith(")")) item = item.substring(1, item.length() - 1);
            if (topLevel(JinjaCompat.tokenize(item), 0, ",") >= 0) item = "[" + item + "]";
            s.append(" set ").append(items).append(" = [] %}")
                    .append("{% for ").append(target).append(" in ").append(iterable).append(" %}")
                    .append("{% if ").append(condition).append(" %}{% do ").append(items).append(".append(").append(item)
                    .append(") %}{% endif %}{% endfor %}{%");
            loopOver = items;
        }
        if (flag != null) {
            s.append(" set ").append(flag).append(" = namespace(ran=false) %}{%");
        }
        return s.append(" for ").append(target).append(" in ").append(loopOver).append(' ').append(t.closer()).toString();
    }

    /** The condition with each name {@code loop} (not an attribute named so) read as {@code alias}. */
    private static String outerLoop(String condition, String alias) {
        List<JinjaCompat.Token> tokens = JinjaCompat.tokenize(condition);
        StringBuilder sb = new StringBuilder(condition);
        for (int i = tokens.size() - 1; i >= 0; i--) {
            JinjaCompat.Token t = tokens.get(i);
            if (t.text().equals("loop") && (i == 0 || !tokens.get(i - 1).text().equals("."))) {
                sb.replace(t.start(), t.end(), alias);
            }
        }
        return sb.toString();
    }

    /** Index of the first token {@code word} at bracket depth 0 from {@code from}, or -1. */
    private static int topLevel(List<JinjaCompat.Token> tokens, int from, String word) {
        int depth = 0;
        for (int i = from; i < tokens.size(); i++) {
            String t = tokens.get(i).text();
            if (t.equals("(") || t.equals("[") || t.equals("{")) depth++;
            else if (t.equals(")") || t.equals("]") || t.equals("}")) depth--;
            else if (depth == 0 && t.equals(word)) return i;
        }
        return -1;
    }

    /** Whether a set tag assigns ({@code set x = ...}) rather than opening a block ({@code set x}...{@code endset}). */
    private static boolean assigns(String code) {
        return topLevel(JinjaCompat.tokenize(code), 0, "=") >= 0;
    }
}
