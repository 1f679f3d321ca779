package dev.podserve.api;

import java.nio.charset.StandardCharsets;

import dev.podserve.engine.ServingModel;
import dev.podserve.structured.ReasoningPrelude;
import dev.podserve.tokenizer.HfTokenizer;

/**
 * How a reasoning model sets its thinking apart from its answer: {@code <think> ... </think>}
 * (DeepSeek-R1 and its distillations, Qwen3, QwQ). The thinking goes to {@code reasoning_content},
 * the rest to {@code content}, and structured outputs and tool calls bind only the answer. Told
 * from the chat template (one that writes the closing tag) or set with
 * {@code podserve.model.reasoning-format}.
 *
 * @param name  as configured
 * @param open  the opening tag
 * @param close the closing tag
 */
record ReasoningFormat(String name, String open, String close) {

    static final ReasoningFormat THINK = new ReasoningFormat("think", "<think>", "</think>");

    /** The served model's format: the configured one, or with {@code auto} THINK where the template writes its closing tag. Null: none. */
    static ReasoningFormat of(ServingModel model, String configured) {
        if ("none".equals(configured)) return null;
        if (THINK.name.equals(configured)) return THINK;
        String template = model.chatTemplate() == null ? "" : model.chatTemplate().template();
        return template.contains(THINK.close) ? THINK : null;
    }

    /**
     * Whether the prompt ends by opening the thinking (templates of R1 and of newer Qwen3 thinking
     * models end the generation prompt with {@code <think>} and a line feed), so the answer begins
     * inside it. Only the prompt's end counts: a {@code <think>} in a message is text. A template
     * that closes an empty block ({@code enable_thinking: false}) leaves it closed.
     */
    boolean startsInside(String prompt) {
        int end = prompt.length();
        while (end > 0 && ToolCallText.blank(prompt.charAt(end - 1))) end--;
        return prompt.startsWith(open, end - open.length());
    }

    /** The thinking as the token-level rules see it: tags the tokenizer has as special tokens by id. */
    ReasoningPrelude prelude(HfTokenizer tokenizer, boolean startsInside) {
        return new ReasoningPrelude(open.getBytes(StandardCharsets.UTF_8), close.getBytes(StandardCharsets.UTF_8),
                specialId(tokenizer, open), specialId(tokenizer, close), startsInside);
    }

    /** Whether a tag is a special token, which the text must then keep to be split (skip_special_tokens would drop it). */
    boolean tagsAreSpecial(HfTokenizer tokenizer) {
        return specialId(tokenizer, open) >= 0 || specialId(tokenizer, close) >= 0;
    }

    private static int specialId(HfTokenizer tokenizer, String text) {
        return ToolCallFormat.specialId(tokenizer, text).orElse(-1);
    }
}
