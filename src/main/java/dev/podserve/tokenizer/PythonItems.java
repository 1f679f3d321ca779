package dev.podserve.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.filter.Filter;

/**
 * Jinja's {@code items} filter: a mapping's (key, value) pairs in order, for
 * {@code for k, v in x|items} (Qwen3-Coder lists tool parameters so); nothing for an undefined value.
 */
final class PythonItems implements Filter {

    @Override
    public String getName() {
        return "items";
    }

    @Override
    public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
        if (var == null) return List.of();
        if (!(var instanceof Map<?, ?> map)) {
            throw new ChatTemplateException("the items filter needs a mapping; got " + var.getClass().getSimpleName());
        }
        return new ArrayList<>(map.entrySet());
    }
}
