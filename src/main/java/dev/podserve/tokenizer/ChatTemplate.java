package dev.podserve.tokenizer;

import java.lang.reflect.Method;
import java.time.ZonedDateTime;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.objects.date.StrftimeFormatter;

import jinjava.javax.el.CompositeELResolver;

/**
 * A model's Jinja chat template, rendered the way HuggingFace renders it: {@code trim_blocks} and
 * {@code lstrip_blocks} on, {@code raise_exception} and {@code strftime_now} defined, Python string
 * methods on strings, {@code tojson} as Python's {@code json.dumps}, {@code items} and Python's
 * {@code is iterable}/{@code is sequence} (a string is both), and the special tokens bound as
 * {@code bos_token}/{@code eos_token}. Every failure to render is a {@link ChatTemplateException}.
 *
 * <p>Where Jinjava's operator precedence differs from Jinja's, or it lacks a construct (loop filters, a
 * loop's {@code else}, {@code 'ab' * 3}), {@link JinjaCompat} rewrites the template first; values print as
 * Python's {@code str} ({@link PythonRepr}) and strings index and count by code point. Gaps left against
 * Jinja, each with a case in the test resource {@code tokenizer/jinja-parity.json}: {@code none} prints
 * as undefined does (empty, and so does a null item in {@code join}), {@code ~} and {@code and}/{@code or}
 * follow Jinjava, {@code %} of negative numbers follows Java, a loop over a string takes it whole, a loop
 * has no {@code previtem}, a loop filter is checked for every item before the loop starts (Jinja checks
 * each as it comes, which differs only when the body changes what the filter reads), and only a string
 * times one factor repeats ({@code ' ' * n * 2} does not render).
 * Thread-safe: each render has its own scope.
 */
public final class ChatTemplate {

    private final String template;
    private final String compatible;
    private final String bosToken;
    private final String eosToken;
    private final Jinjava jinjava;
    /** The checkpoint's "tool_use" template, for requests with tools; null: this one serves them too. */
    private final ChatTemplate toolUse;

    /**
     * @param bosToken may be null: the template then sees it undefined
     * @param eosToken may be null
     */
    public ChatTemplate(String template, String bosToken, String eosToken) {
        this(template, bosToken, eosToken, null);
    }

    private ChatTemplate(String template, String bosToken, String eosToken, ChatTemplate toolUse) {
        if (template == null || template.isBlank()) throw new IllegalArgumentException("chat template is empty");
        this.template = template;
        this.compatible = JinjaCompat.rewrite(template);
        this.bosToken = bosToken;
        this.eosToken = eosToken;
        this.jinjava = newJinjava();
        this.toolUse = toolUse;
    }

    /**
     * This template with a checkpoint's "tool_use" template beside it, which {@link #forTools} gives a
     * request with tools, as transformers' {@code get_chat_template(tools=...)} does.
     */
    public ChatTemplate withToolUse(String toolUseTemplate) {
        return new ChatTemplate(template, bosToken, eosToken, new ChatTemplate(toolUseTemplate, bosToken, eosToken));
    }

    /** The template a request with tools renders through: the "tool_use" one where there is one, else this. */
    public ChatTemplate forTools() {
        return toolUse != null ? toolUse : this;
    }

    public String template() {
        return template;
    }

    /**
     * @param messages            the conversation, each a map with at least {@code role} and {@code content}
     * @param addGenerationPrompt whether to open an assistant turn at the end
     * @param extra               further template variables ({@code tools}, {@code enable_thinking}, ...); may be null
     */
    public String render(List<Map<String, Object>> messages, boolean addGenerationPrompt, Map<String, Object> extra) {
        Map<String, Object> bindings = new HashMap<>();
        // transformers leaves a special token the model lacks undefined rather than None.
        if (bosToken != null) bindings.put("bos_token", bosToken);
        if (eosToken != null) bindings.put("eos_token", eosToken);
        if (extra != null) bindings.putAll(extra);
        bindings.put("messages", messages);
        bindings.put("add_generation_prompt", addGenerationPrompt);

        JinjavaConfig config = jinjava.getGlobalConfig();
        StrictTemplateScope scope = new StrictTemplateScope(jinjava.getGlobalContextCopy(), bindings, config.getDisabled());
        JinjavaInterpreter interpreter = new JinjavaInterpreter(jinjava, scope, config) {
            @Override
            public String getAsString(Object value) {
                // What {{ }} prints: Python's str for booleans and containers (True, ['a', None]).
                return PythonRepr.differs(value) ? PythonRepr.str(value) : super.getAsString(value);
            }
        };
        String output;
        try (var current = JinjavaInterpreter.closeablePushCurrent(interpreter).get()) {
            output = current.value().render(compatible);
        } catch (RuntimeException e) {
            throw failure(e, "chat template failed: " + e.getMessage());
        }
        for (TemplateError error : interpreter.getErrors()) {
            if (error.getSeverity() == TemplateError.ErrorType.FATAL
                    || error.getReason() == TemplateError.ErrorReason.SYNTAX_ERROR) {
                throw failure(error.getException(), "chat template failed at line " + error.getLineno() + ": "
                        + error.getMessage());
            }
        }
        return output;
    }

    /** A message the template raised on purpose wins over Jinjava's wrapping of it. */
    private static ChatTemplateException failure(Throwable cause, String message) {
        for (Throwable t = cause; t != null; t = t.getCause()) {
            if (t instanceof ChatTemplateException raised) return new ChatTemplateException(raised.getMessage(), cause);
        }
        return new ChatTemplateException(message, cause);
    }

    private static Jinjava newJinjava() {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonStringMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                // lstrip_blocks is done by JinjaCompat as Jinja does it (from a line's start only):
                // Jinjava's strips the blanks before a block tag in the middle of a line too.
                .withLstripBlocks(false)
                .withElResolver(resolver)
                // Message text must come out as written, never be evaluated as template code.
                .withNestedInterpretationEnabled(false)
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        // Without this, '{{-' and '-}}' leave the whitespace they should remove.
                        .withUseTrimmingForNotesAndExpressions(true)
                        // The rest read expressions as Python does: a dict iterates over its keys,
                        // dict literal keys are expressions, Python's precedence, None kept in loops.
                        .withIterateOverMapKeys(true)
                        .withEvaluateMapKeys(true)
                        .withUseNaturalOperatorPrecedence(true)
                        .withKeepNullableLoopValues(true)
                        .withParseWhitespaceControlStrictly(true)
                        .withUsePyishObjectMapper(true)
                        .build())
                .build();
        Jinjava jinjava = new Jinjava(config);
        jinjava.registerFilter(new PythonJson());
        jinjava.registerFilter(new PythonItems());
        PythonFilters.all().forEach(jinjava::registerFilter);
        PythonTypeTests.all().forEach(jinjava::registerExpTest);
        jinjava.registerTag(new GenerationTag());
        jinjava.registerFunction(function("raise_exception", "raiseException"));
        jinjava.registerFunction(function("strftime_now", "strftimeNow"));
        return jinjava;
    }

    private static ELFunctionDefinition function(String name, String javaName) {
        try {
            Method m = ChatTemplate.class.getDeclaredMethod(javaName, String.class);
            m.setAccessible(true);
            return new ELFunctionDefinition("", name, m);
        } catch (NoSuchMethodException e) {
            throw new IllegalStateException(e);
        }
    }

    @SuppressWarnings("unused") // called by templates through reflection
    private static String raiseException(String message) {
        throw new ChatTemplateException(message);
    }

    @SuppressWarnings("unused") // called by templates through reflection
    private static String strftimeNow(String format) {
        return StrftimeFormatter.format(ZonedDateTime.now(), format);
    }
}
