package dev.podserve.tokenizer;

import java.util.Iterator;
import java.util.List;
import java.util.Map;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.exptest.ExpTest;

/**
 * Jinja's {@code is iterable} and {@code is sequence} as Python answers them: a string is both
 * (Jinjava says neither). Llama 3's template decides with {@code content is iterable} whether a
 * tool result goes through {@code tojson}, so a plain string result must take that branch, as it
 * does in transformers and vLLM.
 */
final class PythonTypeTests {

    private PythonTypeTests() {
    }

    static List<ExpTest> all() {
        return List.of(new Iterable(), new Sequence());
    }

    /** {@code iter(x)} succeeds: strings, lists, sets, dicts (over their keys), iterators. */
    private static final class Iterable implements ExpTest {
        @Override
        public String getName() {
            return "iterable";
        }

        @Override
        public boolean evaluate(Object var, JinjavaInterpreter interpreter, Object... args) {
            return var instanceof CharSequence || var instanceof java.lang.Iterable<?> || var instanceof Map<?, ?>
                    || var instanceof Iterator<?> || (var != null && var.getClass().isArray());
        }
    }

    /** Jinja's test: {@code len(x)} and {@code x[...]} both work: strings, lists, tuples and dicts, not sets. */
    private static final class Sequence implements ExpTest {
        @Override
        public String getName() {
            return "sequence";
        }

        @Override
        public boolean evaluate(Object var, JinjavaInterpreter interpreter, Object... args) {
            return var instanceof CharSequence || var instanceof List<?> || var instanceof Map<?, ?>
                    || (var != null && var.getClass().isArray());
        }
    }
}
