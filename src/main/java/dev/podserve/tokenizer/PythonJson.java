package dev.podserve.tokenizer;

import java.lang.reflect.Array;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;

/**
 * The {@code tojson} filter as HuggingFace's chat environment defines it: Python's
 * {@code json.dumps(x, ensure_ascii=False, indent=None, sort_keys=False)}. Tool schemas reach the
 * prompt through it, so key order and spacing ({@code {"a": 1, "b": 2}}) must match what the
 * model was trained on; Jinjava's own filter sorts keys and writes no spaces.
 */
final class PythonJson implements Filter {

    @Override
    public String getName() {
        return "tojson";
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
        return filter(var, interpreter, args, Map.of());
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, Object[] args, Map<String, Object> kwargs) {
        Object indent = kwargs.containsKey("indent") ? kwargs.get("indent") : args.length > 0 ? args[0] : null;
        boolean sortKeys = truthy(kwargs.get("sort_keys"));
        boolean ensureAscii = truthy(kwargs.get("ensure_ascii"));
        return dumps(var, indentText(indent), sortKeys, ensureAscii);
    }

    private static boolean truthy(Object o) {
        return o instanceof Boolean b ? b : o != null && Boolean.parseBoolean(String.valueOf(o));
    }

    /** Python takes a number of spaces or the indent string itself; null means one line. */
    private static String indentText(Object indent) {
        if (indent == null) return null;
        if (indent instanceof Number n) return " ".repeat(Math.max(0, n.intValue()));
        String s = String.valueOf(indent);
        return s.chars().allMatch(Character::isDigit) && !s.isEmpty() ? " ".repeat(Integer.parseInt(s)) : s;
    }

    static String dumps(Object value, String indent, boolean sortKeys, boolean ensureAscii) {
        StringBuilder sb = new StringBuilder();
        new Writer(sb, indent, sortKeys, ensureAscii).value(value, 0);
        return sb.toString();
    }

    private record Writer(StringBuilder sb, String indent, boolean sortKeys, boolean ensureAscii) {

        void value(Object v, int depth) {
            if (v == null) {
                sb.append("null");
            } else if (v instanceof Boolean b) {
                sb.append(b ? "true" : "false");
            } else if (v instanceof Double || v instanceof Float) {
                sb.append(pythonFloat(((Number) v).doubleValue()));
            } else if (v instanceof BigDecimal d) {
                sb.append(pythonFloat(d.doubleValue()));
            } else if (v instanceof Number n) {
                sb.append(n);
            } else if (v instanceof Map<?, ?> map) {
                List<Map.Entry<String, Object>> entries = new ArrayList<>();
                map.forEach((k, x) -> entries.add(Map.entry(key(k), x == null ? NULL : x)));
                if (sortKeys) entries.sort(Map.Entry.comparingByKey(Comparator.naturalOrder()));
                container('{', '}', entries, depth);
            } else if (v instanceof Iterable<?> items) {
                List<Object> list = new ArrayList<>();
                items.forEach(list::add);
                container('[', ']', list, depth);
            } else if (v.getClass().isArray()) {
                List<Object> list = new ArrayList<>();
                for (int i = 0; i < Array.getLength(v); i++) list.add(Array.get(v, i));
                container('[', ']', list, depth);
            } else {
                string(String.valueOf(v));
            }
        }

        /** Map.entry takes no nulls; this stands in for a null value. */
        private static final Object NULL = new Object();

        private void container(char open, char close, List<?> items, int depth) {
            sb.append(open);
            if (items.isEmpty()) {
                sb.append(close);
                return;
            }
            for (int i = 0; i < items.size(); i++) {
                if (i > 0) sb.append(indent == null ? ", " : ",");
                if (indent != null) sb.append('\n').append(indent.repeat(depth + 1));
                Object item = items.get(i);
                if (item instanceof Map.Entry<?, ?> e) {
                    string((String) e.getKey());
                    sb.append(": ");
                    value(e.getValue() == NULL ? null : e.getValue(), depth + 1);
                } else {
                    value(item, depth + 1);
                }
            }
            if (indent != null) sb.append('\n').append(indent.repeat(depth));
            sb.append(close);
        }

        private static String key(Object k) {
            if (k == null) return "null";
            if (k instanceof Double || k instanceof Float) return pythonFloat(((Number) k).doubleValue());
            return String.valueOf(k);
        }

        private void string(String s) {
            sb.append('"');
            for (int i = 0; i < s.length(); i++) {
                char c = s.charAt(i);
                switch (c) {
                    case '"' -> sb.append("\\\"");
                    case '\\' -> sb.append("\\\\");
                    case '\n' -> sb.append("\\n");
                    case '\r' -> sb.append("\\r");
                    case '\t' -> sb.append("\\t");
                    case '\b' -> sb.append("\\b");
                    case '\f' -> sb.append("\\f");
                    default -> {
                        if (c < 0x20 || (ensureAscii && c > 0x7E)) sb.append(String.format("\\u%04x", (int) c));
                        else sb.append(c);
                    }
                }
            }
            sb.append('"');
        }
    }

    /** Python's float repr: shortest digits, positional for exponents -4..15, else {@code 1e+16} style. */
    static String pythonFloat(double d) {
        if (Double.isNaN(d)) return "NaN";
        if (Double.isInfinite(d)) return d > 0 ? "Infinity" : "-Infinity";
        if (d == 0) return 1 / d < 0 ? "-0.0" : "0.0";
        BigDecimal exact = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        String digits = exact.unscaledValue().abs().toString();
        int exponent = digits.length() - 1 - exact.scale();
        String sign = d < 0 ? "-" : "";
        if (exponent >= -4 && exponent < 16) {
            String plain = exact.abs().toPlainString();
            return sign + (plain.contains(".") ? plain : plain + ".0");
        }
        String mantissa = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
        return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + String.format("%02d", Math.abs(exponent));
    }
}
