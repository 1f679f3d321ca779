package dev.podserve.bench.serve;

/**
 * One request of a workload, before it is sent. The prompt is either token ids (for
 * {@code /v1/completions}, exact lengths with no tokenizer on this side) or text (for chat, and for
 * servers that take no token-id prompts), in which case {@code promptLen} is the intended length
 * and the server's usage chunk tells the real one.
 *
 * @param kind which part of a workload it belongs to ("random", "long", "chat", "document"), so the
 *             summary can be read per kind
 */
public record BenchRequest(int index, String kind, int[] promptIds, String promptText, int promptLen, int outputLen) {

    public boolean hasTokenIds() {
        return promptIds != null;
    }
}
