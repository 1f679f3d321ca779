package dev.podserve.tokenizer;

import java.util.List;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.CapitalizeFilter;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.filter.FirstFilter;
import com.hubspot.jinjava.lib.filter.LastFilter;
import com.hubspot.jinjava.lib.filter.LengthFilter;
import com.hubspot.jinjava.lib.filter.LowerFilter;
import com.hubspot.jinjava.lib.filter.ReplaceFilter;
import com.hubspot.jinjava.lib.filter.TrimFilter;
import com.hubspot.jinjava.lib.filter.UpperFilter;
import com.hubspot.jinjava.util.ForLoop;
import com.hubspot.jinjava.util.ObjectIterator;

/**
 * Jinja's built-in filters where Jinjava's differ from them on strings and Python values: a string's
 * {@code length}, {@code first} and {@code last} count code points (Jinjava counts UTF-16 units and
 * treats a string as one item), and {@code string} and {@code join} write values as Python's
 * {@code str} does ({@code True}, {@code None}), and the string filters {@code lower}, {@code upper},
 * {@code capitalize}, {@code trim} and {@code replace} take a boolean, a float or a container as its
 * Python {@code str} ({@code true|lower} is {@code true}; Jinjava hands it back unchanged, which then
 * prints {@code True}). Other inputs go to Jinjava's own filters.
 */
final class PythonFilters {

    private PythonFilters() {
    }

    static List<Filter> all() {
        Filter length = new LengthFilter();
        Filter first = new FirstFilter();
        Filter last = new LastFilter();
        return List.of(
                pythonStr(new LowerFilter()),
                pythonStr(new UpperFilter()),
                pythonStr(new CapitalizeFilter()),
                pythonStr(new TrimFilter()),
                pythonStr(new ReplaceFilter()),
                named("length", (var, in, args) -> var instanceof String s ? s.codePointCount(0, s.length())
                        : length.filter(var, in, args)),
                named("count", (var, in, args) -> var instanceof String s ? s.codePointCount(0, s.length())
                        : length.filter(var, in, args)),
                named("first", (var, in, args) -> var instanceof String s ? PythonStringMethods.codePointAt(s, 0)
                        : first.filter(var, in, args)),
                named("last", (var, in, args) -> var instanceof String s ? PythonStringMethods.codePointAt(s, -1)
                        : last.filter(var, in, args)),
                named("string", (var, in, args) -> PythonRepr.str(var)),
                named("join", PythonFilters::join),
                named("podserve_repeat", PythonFilters::repeat));
    }

    /**
     * {@code join(d='', attribute=None)}: each item (or its attribute) as Python's str, the separator
     * between; a null item as nothing.
     */
    private static Object join(Object var, JinjavaInterpreter interpreter, String... args) {
        String separator = args.length > 0 && args[0] != null ? args[0] : "";
        String attribute = args.length > 1 ? args[1] : null;
        StringBuilder sb = new StringBuilder();
        ForLoop loop = ObjectIterator.getLoop(var);
        boolean firstItem = true;
        while (loop.hasNext()) {
            Object item = loop.next();
            if (attribute != null) item = interpreter.resolveProperty(item, attribute);
            if (!firstItem) sb.append(separator);
            // A null item is most often an undefined one (map(attribute=...) on an item without it),
            // which Jinja joins as nothing; it prints as {{ }} prints it.
            if (item != null) sb.append(PythonRepr.str(item));
            firstItem = false;
        }
        return sb.toString();
    }

    /** {@code 'ab' * n} as Python: n copies, none when n is 0 or negative (see JinjaCompat's rewrite). */
    private static Object repeat(Object var, JinjavaInterpreter interpreter, String... args) {
        long n;
        try {
            n = Long.parseLong(args.length == 1 && args[0] != null ? args[0].strip() : "");
        } catch (NumberFormatException e) {
            throw new ChatTemplateException("can't multiply a string by " + (args.length == 1 ? args[0] : "nothing"));
        }
        String s = var == null ? "" : PythonRepr.str(var);
        if (n <= 0 || s.isEmpty()) return "";
        // Divided, not multiplied: n * length overflows a long for a huge n and would pass the check.
        if (n > 1_000_000 / s.length()) throw new ChatTemplateException("string repetition too long: " + n + " copies");
        return s.repeat((int) n);
    }

    /** Jinja's string filters read their input as Python's str; Jinjava's pass a non-string through. */
    private static Filter pythonStr(Filter jinjava) {
        return named(jinjava.getName(), (var, in, args) ->
                jinjava.filter(PythonRepr.differs(var) ? PythonRepr.str(var) : var, in, args));
    }

    private interface Body {
        Object apply(Object var, JinjavaInterpreter interpreter, String... args);
    }

    private static Filter named(String name, Body body) {
        return new Filter() {
            @Override
            public String getName() {
                return name;
            }

            @Override
            public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
                return body.apply(var, interpreter, args);
            }
        };
    }
}
