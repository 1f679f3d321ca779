package dev.podserve.tokenizer;

import java.util.Map;
import java.util.Set;

import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.lib.exptest.ExpTest;
import com.hubspot.jinjava.lib.filter.Filter;

/**
 * The outermost scope of one render. Jinjava quietly renders nothing for a filter or test it does
 * not know, where Jinja fails; a template that needs one we lack would then produce a wrong prompt
 * without a word. Here such a name resolves to one that fails when used.
 */
final class StrictTemplateScope extends Context {

    StrictTemplateScope(Context parent, Map<String, ?> bindings, Map<Library, Set<String>> disabled) {
        super(parent, bindings, disabled);
    }

    @Override
    public Filter getFilter(String name) {
        Filter known = super.getFilter(name);
        return known != null ? known : new Filter() {
            @Override
            public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
                throw new ChatTemplateException("chat template uses the filter '" + name + "', which is not available");
            }

            @Override
            public String getName() {
                return name;
            }
        };
    }

    @Override
    public ExpTest getExpTest(String name) {
        ExpTest known = super.getExpTest(name);
        return known != null ? known : new ExpTest() {
            @Override
            public boolean evaluate(Object var, JinjavaInterpreter interpreter, Object... args) {
                throw new ChatTemplateException("chat template uses the test '" + name + "', which is not available");
            }

            @Override
            public String getName() {
                return name;
            }
        };
    }
}
