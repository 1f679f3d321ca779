package dev.podserve.sampling;

/** Log-softmax pieces over a processed logits row, computed in double for stable rounding. */
final class Logprobs {

    private Logprobs() {
    }

    /**
     * log(sum(exp(x))) over x[0, n), with the max subtracted first so that exp cannot overflow.
     *
     * @param max           the maximum of x[0, n); must be finite
     * @param shiftedExpOut receives exp(x[i] - max) for each i, so that temperature 1 sampling can
     *                      reuse the exponentials instead of computing them twice
     */
    static double logSumExp(float[] x, int n, float max, double[] shiftedExpOut) {
        double sum = 0;
        for (int i = 0; i < n; i++) {
            double e = Math.exp((double) x[i] - max);
            shiftedExpOut[i] = e;
            sum += e;
        }
        return max + Math.log(sum);
    }

    /**
     * The count highest entries of x[0, n), best first, ties by lower id. Insertion into a short
     * sorted buffer: count is at most 20, and after the first few hundred tokens nearly every
     * candidate loses to the current worst with one comparison.
     */
    static SampleResult withTop(int token, float logprob, float[] x, int n, double logSumExp, int count) {
        count = Math.min(count, n);
        if (count == 0) return SampleResult.withoutAlternatives(token, logprob);
        long[] best = new long[count];
        int filled = 0;
        for (int i = 0; i < n; i++) {
            long key = RankKeys.key(x[i], i);
            if (filled == count && key >= best[count - 1]) continue;
            int at = filled == count ? count - 1 : filled++;
            while (at > 0 && best[at - 1] > key) {
                best[at] = best[at - 1];
                at--;
            }
            best[at] = key;
        }
        int[] tokens = new int[count];
        float[] logprobs = new float[count];
        for (int j = 0; j < count; j++) {
            tokens[j] = RankKeys.token(best[j]);
            logprobs[j] = (float) (x[tokens[j]] - logSumExp);
        }
        return new SampleResult(token, logprob, tokens, logprobs);
    }
}
