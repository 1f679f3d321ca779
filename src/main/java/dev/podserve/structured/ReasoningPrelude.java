package dev.podserve.structured;

/**
 * A reasoning model's thinking before its answer ({@code <think> ... </think>}), which a structured
 * output or a tool call leaves free: the rule binds only what follows it.
 *
 * @param open          the text that opens the thinking
 * @param close         the text that closes it
 * @param openToken     the token id of {@code open} where the tokenizer has it as a special token (no bytes); -1: none
 * @param closeToken    likewise for {@code close}
 * @param startsInside  whether the prompt already opened the thinking (the template ends with
 *                      {@code <think>}), so the output begins inside it; otherwise the output
 *                      thinks only if it begins with {@code open}
 */
public record ReasoningPrelude(byte[] open, byte[] close, int openToken, int closeToken, boolean startsInside) {

    public ReasoningPrelude {
        if (open.length == 0 || close.length == 0) throw new IllegalArgumentException("empty reasoning tags");
    }
}
