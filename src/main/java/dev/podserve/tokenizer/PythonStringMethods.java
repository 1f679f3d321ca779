package dev.podserve.tokenizer;

import java.beans.FeatureDescriptor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Pattern;

import com.hubspot.jinjava.objects.collections.PyList;

import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELResolver;

/**
 * Gives template strings the Python {@code str} methods chat templates call
 * ({@code message.content.startswith('<tool_call>')}). Jinjava only offers Java's own methods,
 * which differ in name ({@code startsWith}) or meaning ({@code split} takes a regex), so this
 * resolver answers those calls first and leaves everything else to Jinjava's resolvers.
 */
final class PythonStringMethods extends ELResolver {

    private static final Pattern INDEX = Pattern.compile("-?[0-9]{1,9}");

    static final Set<String> METHODS = Set.of("startswith", "endswith", "strip", "lstrip", "rstrip", "split",
            "upper", "lower", "replace", "title", "capitalize", "join", "count", "find", "rfind", "isspace", "isdigit",
            "isalpha", "isalnum");

    @Override
    public Object invoke(ELContext context, Object base, Object method, Class<?>[] paramTypes, Object[] params) {
        if (!(base instanceof String s) || !(method instanceof String name) || !METHODS.contains(name)) return null;
        Object result = call(s, name, params == null ? new Object[0] : params);
        context.setPropertyResolved(true);
        return result;
    }

    static Object call(String s, String name, Object[] args) {
        return switch (name) {
            case "startswith" -> affix(s, args, true);
            case "endswith" -> affix(s, args, false);
            case "strip" -> strip(s, chars(args), true, true);
            case "lstrip" -> strip(s, chars(args), true, false);
            case "rstrip" -> strip(s, chars(args), false, true);
            case "split" -> new PyList(new ArrayList<>(split(s, args.length > 0 ? (String) args[0] : null,
                    args.length > 1 ? integer(args[1]) : -1)));
            case "upper" -> s.toUpperCase(Locale.ROOT);
            case "lower" -> s.toLowerCase(Locale.ROOT);
            case "replace" -> replace(s, str(args, 0), str(args, 1), args.length > 2 ? integer(args[2]) : -1);
            case "title" -> title(s);
            case "capitalize" -> s.isEmpty() ? s
                    : s.substring(0, 1).toUpperCase(Locale.ROOT) + s.substring(1).toLowerCase(Locale.ROOT);
            case "join" -> join(s, args);
            case "count" -> count(s, needle(args, "count"), args);
            case "find" -> find(s, needle(args, "find"), args, false);
            case "rfind" -> find(s, needle(args, "rfind"), args, true);
            case "isspace" -> !s.isEmpty() && s.codePoints().allMatch(c -> Character.isWhitespace(c) || Character.isSpaceChar(c));
            case "isdigit" -> !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
            case "isalpha" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
            case "isalnum" -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit);
            default -> throw new IllegalStateException(name);
        };
    }

    /** {@code startswith}/{@code endswith}: one affix or any of a list, optionally within s[start:end]. */
    private static boolean affix(String s, Object[] args, boolean start) {
        if (args.length == 0) throw new IllegalArgumentException((start ? "startswith" : "endswith") + " needs an argument");
        String within = slice(s, args.length > 1 ? args[1] : null, args.length > 2 ? args[2] : null);
        Iterable<?> candidates = args[0] instanceof Iterable<?> many ? many : List.of(String.valueOf(args[0]));
        for (Object c : candidates) {
            String affix = String.valueOf(c);
            if (start ? within.startsWith(affix) : within.endsWith(affix)) return true;
        }
        return false;
    }

    private static String slice(String s, Object from, Object to) {
        int n = s.length();
        int a = from == null ? 0 : clampIndex(integer(from), n);
        int b = to == null ? n : clampIndex(integer(to), n);
        return a >= b ? "" : s.substring(a, b);
    }

    private static int clampIndex(int i, int n) {
        return i < 0 ? Math.max(0, n + i) : Math.min(i, n);
    }

    private static String chars(Object[] args) {
        return args.length == 0 || args[0] == null ? null : String.valueOf(args[0]);
    }

    /** Python strips Unicode whitespace by default, or any of the given characters. */
    static String strip(String s, String chars, boolean left, boolean right) {
        int a = 0;
        int b = s.length();
        while (left && a < b && strippable(s.charAt(a), chars)) a++;
        while (right && b > a && strippable(s.charAt(b - 1), chars)) b--;
        return s.substring(a, b);
    }

    private static boolean strippable(char c, String chars) {
        return chars == null ? Character.isWhitespace(c) || Character.isSpaceChar(c) : chars.indexOf(c) >= 0;
    }

    /** Without a separator, runs of whitespace split and the ends are dropped, as in Python. */
    static List<String> split(String s, String sep, int maxSplit) {
        List<String> parts = new ArrayList<>();
        if (sep == null) {
            int i = 0;
            int n = s.length();
            while (true) {
                while (i < n && strippable(s.charAt(i), null)) i++;
                if (i == n) return parts;
                if (maxSplit >= 0 && parts.size() == maxSplit) {
                    parts.add(strip(s.substring(i), null, false, true));
                    return parts;
                }
                int j = i;
                while (j < n && !strippable(s.charAt(j), null)) j++;
                parts.add(s.substring(i, j));
                i = j;
            }
        }
        if (sep.isEmpty()) throw new IllegalArgumentException("empty separator");
        int from = 0;
        int at;
        while ((maxSplit < 0 || parts.size() < maxSplit) && (at = s.indexOf(sep, from)) >= 0) {
            parts.add(s.substring(from, at));
            from = at + sep.length();
        }
        parts.add(s.substring(from));
        return parts;
    }

    private static String replace(String s, String old, String replacement, int count) {
        if (count < 0) return s.replace(old, replacement);
        StringBuilder sb = new StringBuilder();
        int from = 0;
        for (int done = 0; done < count; done++) {
            int at = s.indexOf(old, from);
            if (at < 0) break;
            sb.append(s, from, at).append(replacement);
            // Python inserts the replacement between characters when the old text is empty.
            if (old.isEmpty()) {
                if (at == s.length()) return sb.toString();
                sb.append(s.charAt(at));
                from = at + 1;
            } else {
                from = at + old.length();
            }
        }
        return sb.append(s, from, s.length()).toString();
    }

    /** Each run of letters starts upper case and continues lower case, as Python's {@code str.title}. */
    static String title(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        boolean inWord = false;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            sb.append(inWord ? Character.toLowerCase(c) : Character.toTitleCase(c));
            inWord = Character.isLetter(c);
        }
        return sb.toString();
    }

    private static String join(String sep, Object[] args) {
        if (args.length != 1 || !(args[0] instanceof Iterable<?> items)) {
            throw new IllegalArgumentException("join needs one list argument");
        }
        StringBuilder sb = new StringBuilder();
        boolean first = true;
        for (Object item : items) {
            if (!first) sb.append(sep);
            sb.append(item);
            first = false;
        }
        return sb.toString();
    }

    /**
     * Non-overlapping occurrences in s[start:end], as Python's {@code str.count}; an empty needle counts
     * the gaps between characters.
     */
    private static long count(String s, String needle, Object[] args) {
        String within = codePointSlice(s, args);
        if (within == null) return 0;
        if (needle.isEmpty()) return within.codePointCount(0, within.length()) + 1L;
        long n = 0;
        for (int at = within.indexOf(needle); at >= 0; at = within.indexOf(needle, at + needle.length())) n++;
        return n;
    }

    /** Python's {@code str.find}/{@code str.rfind} within s[start:end]: a code point index into s, or -1. */
    private static long find(String s, String needle, Object[] args, boolean last) {
        String within = codePointSlice(s, args);
        if (within == null) return -1;
        int at = last ? within.lastIndexOf(needle) : within.indexOf(needle);
        if (at < 0) return -1;
        int n = s.codePointCount(0, s.length());
        int start = args.length > 1 && args[1] != null ? clampIndex(integer(args[1]), n) : 0;
        return start + within.codePointCount(0, at);
    }

    /**
     * s[start:end] counted in code points, from the optional arguments after the needle; null where
     * Python finds nothing whatever the needle (a start past the end).
     */
    private static String codePointSlice(String s, Object[] args) {
        int n = s.codePointCount(0, s.length());
        if (args.length > 1 && args[1] != null && integer(args[1]) > n) return null;
        int a = args.length > 1 && args[1] != null ? clampIndex(integer(args[1]), n) : 0;
        int b = args.length > 2 && args[2] != null ? clampIndex(integer(args[2]), n) : n;
        if (a > b) return null;
        return s.substring(s.offsetByCodePoints(0, a), s.offsetByCodePoints(0, b));
    }

    private static String needle(Object[] args, String method) {
        if (args.length == 0 || args[0] == null) throw new IllegalArgumentException(method + " needs a string argument");
        return String.valueOf(args[0]);
    }

    /** {@code s[i]}: the code point at i, counted from the end when negative; null (undefined) outside the string, as in Jinja. */
    static String codePointAt(String s, long index) {
        int n = s.codePointCount(0, s.length());
        long i = index < 0 ? n + index : index;
        if (i < 0 || i >= n) return null;
        int at = s.offsetByCodePoints(0, (int) i);
        return new String(Character.toChars(s.codePointAt(at)));
    }

    private static String str(Object[] args, int i) {
        if (args.length <= i) throw new IllegalArgumentException("replace needs two arguments");
        return String.valueOf(args[i]);
    }

    private static int integer(Object o) {
        if (o instanceof Number n) return n.intValue();
        throw new IllegalArgumentException("expected an integer, got " + o);
    }

    @Override
    public Class<?> getCommonPropertyType(ELContext context, Object base) {
        return null;
    }

    @Override
    public Iterator<FeatureDescriptor> getFeatureDescriptors(ELContext context, Object base) {
        return Collections.emptyIterator();
    }

    @Override
    public Class<?> getType(ELContext context, Object base, Object property) {
        return null;
    }

    /**
     * Strings index by code point, as Python's do; Jinjava's own resolvers give nothing for a string's
     * index. Jinjava hands every index over as text ({@code s[-1]} arrives as "-1").
     */
    @Override
    public Object getValue(ELContext context, Object base, Object property) {
        if (!(base instanceof String s) || property == null) return null;
        String index = property.toString();
        if (!INDEX.matcher(index).matches()) return null;
        context.setPropertyResolved(true);
        return codePointAt(s, Long.parseLong(index));
    }

    @Override
    public boolean isReadOnly(ELContext context, Object base, Object property) {
        return true;
    }

    @Override
    public void setValue(ELContext context, Object base, Object property, Object value) {
        // Strings are immutable; other resolvers decide for other bases.
    }
}
