package dev.podserve.bench.serve;

/**
 * What one streamed request measured. Times are seconds.
 *
 * @param sentAt      when it was sent, from the start of the run (after any wait for a concurrency slot)
 * @param ttft        time to the first chunk carrying output text
 * @param latency     end-to-end: from sending to the last chunk with choices (as vLLM ends it: a slow usage chunk
 *                    or end of the body after the last token is not the request's)
 * @param itl         gaps between successive chunks carrying output text (inter-token latency; a chunk
 *                    that carries several tokens counts as one gap, as in vLLM)
 * @param promptTokens, outputTokens from the usage chunk ({@code stream_options.include_usage}); without one,
 *                    the intended prompt length and the number of text chunks
 * @param validJson   whether the output text parsed as one JSON value ({@code --check-json}); null: not checked
 */
public record RequestResult(int index, String kind, boolean success, String error, double sentAt, double ttft,
        double latency, double[] itl, int promptTokens, int outputTokens, Boolean validJson) {

    public RequestResult(int index, String kind, boolean success, String error, double sentAt, double ttft,
                         double latency, double[] itl, int promptTokens, int outputTokens) {
        this(index, kind, success, error, sentAt, ttft, latency, itl, promptTokens, outputTokens, null);
    }

    public static RequestResult failed(int index, String kind, double sentAt, double latency, String error) {
        return new RequestResult(index, kind, false, error, sentAt, 0, latency, new double[0], 0, 0);
    }

    /**
     * Time per output token after the first: the decode speed this request saw, undefined (NaN) for a
     * single-token output.
     */
    public double tpot() {
        return outputTokens > 1 ? (latency - ttft) / (outputTokens - 1) : Double.NaN;
    }
}
