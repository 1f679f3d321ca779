package dev.podserve.tokenizer;

import java.math.BigDecimal;
import java.util.Iterator;
import java.util.Map;

/**
 * Python's {@code str()} and {@code repr()} of template values, which is what Jinja prints: {@code True},
 * {@code None}, {@code ['a', 1]}, {@code {'k': False}}. Jinjava prints JSON's {@code true} and
 * {@code null} instead, so a template that writes a boolean argument or a list into the prompt would
 * give the model text it was not trained on.
 */
final class PythonRepr {

    private PythonRepr() {
    }

    /** {@code str(value)}: strings as they are, everything else as its repr. */
    static String str(Object value) {
        return value instanceof CharSequence s ? s.toString() : repr(value);
    }

    static String repr(Object value) {
        StringBuilder sb = new StringBuilder();
        repr(value, sb);
        return sb.toString();
    }

    /** Whether Jinjava may print the value differently from Python (booleans, floats, and None inside containers). */
    static boolean differs(Object value) {
        return value instanceof Boolean || value instanceof Double || value instanceof Float || value instanceof Map
                || value instanceof Iterable || value instanceof Map.Entry;
    }

    private static void repr(Object value, StringBuilder sb) {
        if (value == null) {
            sb.append("None");
        } else if (value instanceof Boolean b) {
            sb.append(b ? "True" : "False");
        } else if (value instanceof CharSequence s) {
            quote(s.toString(), sb);
        } else if (value instanceof Double || value instanceof Float) {
            sb.append(floatRepr(((Number) value).doubleValue()));
        } else if (value instanceof Number n) {
            sb.append(n instanceof BigDecimal d ? d.toPlainString() : n.toString());
        } else if (value instanceof Map.Entry<?, ?> e) {
            sb.append('(');
            repr(e.getKey(), sb);
            sb.append(", ");
            repr(e.getValue(), sb);
            sb.append(')');
        } else if (value instanceof Map<?, ?> map) {
            sb.append('{');
            Iterator<? extends Map.Entry<?, ?>> it = map.entrySet().iterator();
            while (it.hasNext()) {
                Map.Entry<?, ?> e = it.next();
                repr(e.getKey(), sb);
                sb.append(": ");
                repr(e.getValue(), sb);
                if (it.hasNext()) sb.append(", ");
            }
            sb.append('}');
        } else if (value instanceof Iterable<?> items) {
            sb.append('[');
            Iterator<?> it = items.iterator();
            while (it.hasNext()) {
                repr(it.next(), sb);
                if (it.hasNext()) sb.append(", ");
            }
            sb.append(']');
        } else {
            sb.append(value);
        }
    }

    /** Python quotes with ' unless the text holds ' and no ", and escapes what is not printable. */
    private static void quote(String s, StringBuilder sb) {
        char q = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        sb.append(q);
        s.codePoints().forEach(c -> {
            if (c == q || c == '\\') sb.append('\\').appendCodePoint(c);
            else if (c == '\n') sb.append("\\n");
            else if (c == '\r') sb.append("\\r");
            else if (c == '\t') sb.append("\\t");
            else if (c < 0x20 || c == 0x7f) sb.append(String.format("\\x%02x", c));
            else sb.appendCodePoint(c);
        });
        sb.append(q);
    }

    /** Python's float repr: the shortest digits that read back, exponent form below 1e-4 and from 1e16. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) return "nan";
        if (Double.isInfinite(d)) return d > 0 ? "inf" : "-inf";
        if (d == 0) return (1 / d < 0) ? "-0.0" : "0.0";
        BigDecimal exact = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        int exponent = exact.precision() - exact.scale() - 1; // position of the leading digit
        if (exponent >= -4 && exponent < 16) {
            String plain = exact.toPlainString();
            return plain.contains(".") ? plain : plain + ".0";
        }
        String digits = exact.unscaledValue().abs().toString();
        StringBuilder sb = new StringBuilder(d < 0 ? "-" : "");
        sb.append(digits.charAt(0));
        if (digits.length() > 1) sb.append('.').append(digits, 1, digits.length());
        sb.append('e').append(exponent < 0 ? '-' : '+');
        if (Math.abs(exponent) < 10) sb.append('0');
        return sb.append(Math.abs(exponent)).toString();
    }
}
