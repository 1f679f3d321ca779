package dev.podserve.engine;

/** Why a generation ended, spelled as OpenAI's {@code finish_reason}. */
public enum FinishReason {
    /** EOS, a stop token id or a stop string. */
    STOP("stop"),
    /** {@code max_tokens} or the context length. */
    LENGTH("length"),
    /** The client went away or cancelled. */
    ABORT("abort");

    private final String wire;

    FinishReason(String wire) {
        this.wire = wire;
    }

    public String wire() {
        return wire;
    }
}
