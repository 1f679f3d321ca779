package dev.podserve.engine;

/**
 * What ended a choice with {@code finish_reason "stop"}, reported as vLLM's {@code stop_reason}: a
 * stop string or a stop token id. None (null) where the tokenizer's end token, a length limit, a
 * finished structured output or an abort ended it, as in vLLM, where only the stop checks that
 * name a culprit set one.
 */
public sealed interface StopReason {

    /** The value as it goes on the wire: the stop string, or the token id as a number. */
    Object wire();

    /** A string from {@code stop} completed in the text. */
    record Text(String stop) implements StopReason {
        @Override
        public Object wire() {
            return stop;
        }
    }

    /**
     * A token id that stops the request: one from {@code stop_token_ids}, or one of the model's
     * further end ids from its config files (vLLM stops on those as stop token ids, so it names them).
     */
    record Token(int id) implements StopReason {
        @Override
        public Object wire() {
            return id;
        }
    }
}
