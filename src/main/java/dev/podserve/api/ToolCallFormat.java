package dev.podserve.api;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;

import dev.podserve.engine.ServingModel;
import dev.podserve.structured.ValueTriggers;
import dev.podserve.tokenizer.HfTokenizer;

/**
 * How a model writes tool calls in its own answers, which {@code tool_choice: "auto"} reads back
 * (and binds, from the point a call opens, to the request's tools). Each is a family of chat
 * templates trained on it; the server tells which from the template or is told
 * ({@code podserve.model.tool-call-format}).
 *
 * @param name         as configured
 * @param openers      texts that open a call (a special token where the tokenizer has one by that name)
 * @param atStart      whether an answer may also begin with the calls' JSON directly (an object, or an array where {@code array})
 * @param separator    what opens another call right after one; null: only the openers do
 * @param argumentsKey the member holding a call's arguments
 * @param array        whether an opener is followed by a JSON array of calls instead of one call
 * @param closer       the text that ends a call after its JSON, dropped from the content; null: none
 * @param shortIds     whether call ids are 9 letters and digits, the only ids Mistral's chat templates take back
 *                     (they raise on any other in the next turn's history; vLLM's MistralToolCall makes them so)
 * @param xml          whether an opener is followed by {@code <function=NAME>} and {@code <parameter=KEY>} elements
 *                     instead of JSON: read by {@link XmlCallText} against the tools' schemas, and never bound by a
 *                     grammar (there is no JSON to bind; {@code argumentsKey} and {@code array} do not apply)
 * @param argumentsMarker where a call's name, written as plain text right after the opener, ends and its JSON
 *                     arguments begin ({@code [ARGS]}, Mistral's tokenizers from version 11); null: the name is inside
 *                     the call's JSON. Such calls are read by {@link MistralCallText} and, like XML ones, never bound by
 *                     a grammar ({@code argumentsKey} and {@code array} do not apply)
 */
record ToolCallFormat(String name, List<String> openers, boolean atStart, String separator, String argumentsKey,
                      boolean array, String closer, boolean shortIds, boolean xml, String argumentsMarker) {

    ToolCallFormat(String name, List<String> openers, boolean atStart, String separator, String argumentsKey,
                   boolean array, String closer) {
        this(name, openers, atStart, separator, argumentsKey, array, closer, false, false, null);
    }

    /** What a template of {@link #QWEN3_CODER} writes inside a call, and a Hermes template never does. */
    private static final String XML_FUNCTION = "<function=";

    /** {@code <tool_call>{"name": ..., "arguments": {...}}</tool_call>}, once per call: Hermes, Qwen 2.5 and 3, and many fine-tunes. */
    static final ToolCallFormat HERMES = new ToolCallFormat("hermes", List.of("<tool_call>"), false, null, "arguments", false,
            "</tool_call>");
    /** The answer is {@code {"name": ..., "parameters": {...}}}, calls separated by {@code ;}, optionally after {@code <|python_tag|>}: Llama 3.1 to 3.3. */
    static final ToolCallFormat LLAMA3_JSON = new ToolCallFormat("llama3_json", List.of("<|python_tag|>"), true, ";",
            "parameters", false, null);
    /** {@code [TOOL_CALLS][{"name": ..., "arguments": {...}}, ...]}: Mistral's instruct models before tokenizer version 11 (Mistral-7B-Instruct-v0.3, Mixtral). */
    static final ToolCallFormat MISTRAL = new ToolCallFormat("mistral", List.of("[TOOL_CALLS]"), false, null, "arguments", true, null,
            true, false, null);
    /**
     * {@code [TOOL_CALLS]NAME[ARGS]{...}}, once per call: Mistral's models of tokenizer version 11 and
     * later (Mistral-Small-3.2, Magistral, Devstral, Ministral-3), some of which write
     * {@code [CALL_ID]ID} between the name and {@code [ARGS]}. Their templates write the old opener too,
     * so {@code [ARGS]} tells them from {@link #MISTRAL}; ids are Mistral's 9 letters and digits.
     */
    static final ToolCallFormat MISTRAL_V11 = new ToolCallFormat("mistral_v11", List.of("[TOOL_CALLS]"), false, null, null, false,
            null, true, false, "[ARGS]");
    /**
     * {@code <tool_call><function=NAME><parameter=KEY>value</parameter>...</function></tool_call>}, once
     * per call: Qwen3-Coder (and later Qwen models whose templates write {@code <function=}). Its values
     * are plain text, typed by the tools' schemas when read (vLLM's {@code qwen3_coder}).
     */
    static final ToolCallFormat QWEN3_CODER = new ToolCallFormat("qwen3_coder", List.of("<tool_call>"), false, null, null, false,
            "</tool_call>", false, true, null);

    /**
     * {@code tool_choice: "required"}'s answer, which the grammar makes a JSON array of
     * {@code {"name", "parameters"}} from its first byte (vLLM's form): no model's own format, so
     * never told from a template.
     */
    static final ToolCallFormat REQUIRED = new ToolCallFormat("required", List.of(), true, null, "parameters", true, null);

    /** {@link #REQUIRED}'s array, its calls given the ids the served model's template takes back (null: not known). */
    static ToolCallFormat required(ToolCallFormat model) {
        return model != null && model.shortIds ? new ToolCallFormat(REQUIRED.name, REQUIRED.openers, REQUIRED.atStart,
                REQUIRED.separator, REQUIRED.argumentsKey, REQUIRED.array, REQUIRED.closer, true, false, null) : REQUIRED;
    }

    /**
     * Whether {@code tool_choice: "auto"}'s grammar binds this format's calls: only where an opener is
     * followed by a JSON call (or array of them). XML calls and calls whose name comes as plain text before
     * {@link #argumentsMarker} are read back unbound, as vLLM reads them.
     */
    boolean bound() {
        return !xml && argumentsMarker == null;
    }

    /** A new id for a call read in this format. */
    String newId() {
        return shortIds ? ToolCallAnswers.newShortId() : ToolCallAnswers.newId();
    }

    /**
     * In the order templates are told apart: Qwen3-Coder's templates write {@code <tool_call>} too,
     * so {@code <function=} must be looked for before Hermes' opener is; Mistral's v11 templates write
     * {@code [TOOL_CALLS]} too, so {@code [ARGS]} must be looked for before the old Mistral format is.
     */
    private static final List<ToolCallFormat> ALL = List.of(QWEN3_CODER, HERMES, LLAMA3_JSON, MISTRAL_V11, MISTRAL);

    /**
     * The served model's format: the configured one, or with {@code auto} the first that its chat
     * template writes (by its opener; {@link #QWEN3_CODER} by {@code <function=} too, {@link #MISTRAL_V11}
     * by {@code [ARGS]} too). Null: none ({@code none}, or a template that writes no known one).
     */
    static ToolCallFormat of(ServingModel model, String configured) {
        if ("none".equals(configured)) return null;
        for (ToolCallFormat f : ALL) {
            if (f.name.equals(configured)) return f;
        }
        // The tool_use template, where the checkpoint has one, is the one that writes the calls.
        String template = model.chatTemplate() == null ? "" : model.chatTemplate().forTools().template();
        for (ToolCallFormat f : ALL) {
            if (f.writtenBy(template)) return f;
        }
        return null;
    }

    private boolean writtenBy(String template) {
        // An XML template must write the opener too: Seed-OSS's writes <function= inside <seed:tool_call>, which this reader never finds.
        return openers.stream().anyMatch(template::contains) && (!xml || template.contains(XML_FUNCTION))
                && (argumentsMarker == null || template.contains(argumentsMarker));
    }

    /**
     * Where calls open, as the grammar matches them: every opener as text (the reader finds it in
     * text, however it was spelled), and those the tokenizer has as special tokens by id too.
     */
    ValueTriggers triggers(HfTokenizer tokenizer) {
        List<byte[]> texts = new ArrayList<>();
        List<Integer> tokens = new ArrayList<>();
        for (String o : openers) {
            OptionalInt id = specialId(tokenizer, o);
            if (id.isPresent()) tokens.add(id.getAsInt());
            texts.add(o.getBytes(StandardCharsets.UTF_8));
        }
        return new ValueTriggers(texts, tokens.stream().mapToInt(Integer::intValue).toArray(), atStart,
                separator == null ? null : separator.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Whether an opener (or the {@link #argumentsMarker}) is a special token, which the answer's text then
     * has to keep (it would otherwise be dropped with {@code skip_special_tokens}, and the call with it).
     */
    boolean opensWithSpecialToken(HfTokenizer tokenizer) {
        return openers.stream().anyMatch(o -> specialId(tokenizer, o).isPresent())
                || (argumentsMarker != null && specialId(tokenizer, argumentsMarker).isPresent());
    }

    /** The id of {@code text} where the tokenizer has it as a special token (decoding without special tokens drops it). */
    static OptionalInt specialId(HfTokenizer tokenizer, String text) {
        OptionalInt id = tokenizer.tokenId(text);
        return id.isPresent() && tokenizer.isSpecial(id.getAsInt()) ? id : OptionalInt.empty();
    }
}
