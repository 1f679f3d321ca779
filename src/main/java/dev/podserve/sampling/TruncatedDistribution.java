package dev.podserve.sampling;

import java.util.Arrays;

/**
 * Temperature, top-k, top-p and min-p applied to a processed logits row, then one draw from what
 * is left.
 *
 * <p>The draw is an inverse CDF over the kept tokens in a fixed order (token id order when no
 * ranking was needed, best-first order after top-k or top-p), so a given uniform number always
 * maps to the same token. Only top-k and top-p need a ranking: top-k by an O(n) selection plus a
 * sort of the k survivors, top-p by a heap that is popped only as far as the nucleus reaches,
 * which is usually a small fraction of the vocabulary. min-p needs no ranking because its threshold is
 * relative to the best token, whose weight is exactly 1 after subtracting the max.
 */
final class TruncatedDistribution {

    private TruncatedDistribution() {
    }

    /**
     * @param x          processed logits, x[0, n)
     * @param max        max of x[0, n), finite
     * @param ws         scratch; at temperature 1 ws.weights must hold exp(x[i] - max) for every i on
     *                   entry; at any other temperature the draw writes every weight it reads
     * @param uniform    a number in [0, 1)
     * @return the drawn token id
     */
    static int draw(float[] x, int n, float max, SamplingParams p, double uniform, Workspace ws) {
        double temperature = p.temperature();
        boolean topK = p.topK() >= 1 && p.topK() < n;
        boolean topP = p.topP() < 1.0;
        if (!topK && !topP) {
            temper(x, n, max, temperature, ws.weights);
            if (p.minP() > 0) dropBelow(p.minP(), n, ws.weights);
            return drawInIdOrder(n, ws.weights, uniform);
        }
        int kept = topK
                ? keepTopK(x, n, max, p.topK(), temperature, ws)
                : keepNucleusOfAll(x, n, max, p.topP(), temperature, ws);
        if (topK && topP) kept = nucleusPrefix(ws.ranked, kept, p.topP(), ws.weights);
        if (p.minP() > 0) kept = minPPrefix(ws.ranked, kept, p.minP(), ws.weights);
        return drawRanked(ws.ranked, kept, ws.weights, uniform);
    }

    /** exp((x - max) / T) for every token; at T = 1 the entry values already are exactly that. */
    private static void temper(float[] x, int n, float max, double temperature, double[] w) {
        if (temperature == 1.0) return;
        double inv = 1.0 / temperature;
        for (int i = 0; i < n; i++) w[i] = Math.exp(((double) x[i] - max) * inv);
    }

    private static void dropBelow(double minP, int n, double[] w) {
        for (int i = 0; i < n; i++) {
            if (w[i] < minP) w[i] = 0;
        }
    }

    /**
     * The k best tokens and every token tied with the k-th (fewer only if fewer tokens have a finite
     * logit), ranked into ws.ranked. Ties are kept as transformers' and vLLM's top-k keep them, so a
     * top_k of 1 over two equal logits still draws between them.
     */
    private static int keepTopK(float[] x, int n, float max, int k, double temperature, Workspace ws) {
        long[] keys = ws.keys;
        int finite = 0;
        for (int i = 0; i < n; i++) {
            if (x[i] != Float.NEGATIVE_INFINITY) keys[finite++] = RankKeys.key(x[i], i);
        }
        int kept = Math.min(k, finite);
        if (kept < finite) RankKeys.selectSmallest(keys, finite, kept);
        Arrays.sort(keys, 0, kept);
        if (kept > 0 && kept < finite) {
            // The keys' high words are the logits' order: equal high words, equal logits.
            long boundary = keys[kept - 1] >> 32;
            int end = kept;
            for (int j = kept; j < finite; j++) {
                if (keys[j] >> 32 == boundary) {
                    long t = keys[end];
                    keys[end++] = keys[j];
                    keys[j] = t;
                }
            }
            Arrays.sort(keys, kept, end);
            kept = end;
        }
        double inv = 1.0 / temperature;
        for (int j = 0; j < kept; j++) {
            int token = RankKeys.token(keys[j]);
            ws.ranked[j] = token;
            if (temperature != 1.0) ws.weights[token] = Math.exp(((double) x[token] - max) * inv);
        }
        return kept;
    }

    /**
     * The smallest best-first set whose probability reaches topP, found by popping a heap of the
     * whole vocabulary. Tokens of weight 0 cannot contribute to the mass and stay out of the heap.
     */
    private static int keepNucleusOfAll(float[] x, int n, float max, double topP, double temperature, Workspace ws) {
        double[] w = ws.weights;
        temper(x, n, max, temperature, w);
        long[] heap = ws.keys;
        int size = 0;
        double total = 0;
        for (int i = 0; i < n; i++) {
            if (w[i] > 0) {
                heap[size++] = RankKeys.key(x[i], i);
                total += w[i];
            }
        }
        RankKeys.heapify(heap, size);
        double needed = topP * total;
        double mass = 0;
        int kept = 0;
        while (size > 0 && (kept == 0 || mass < needed)) {
            int token = RankKeys.token(RankKeys.pollSmallest(heap, size--));
            ws.ranked[kept++] = token;
            mass += w[token];
        }
        return kept;
    }

    /** Same rule as keepNucleusOfAll, over an already ranked candidate list. */
    private static int nucleusPrefix(int[] ranked, int count, double topP, double[] w) {
        double total = 0;
        for (int j = 0; j < count; j++) total += w[ranked[j]];
        double needed = topP * total;
        double mass = 0;
        int kept = 0;
        while (kept < count && (kept == 0 || mass < needed)) mass += w[ranked[kept++]];
        return kept;
    }

    private static int minPPrefix(int[] ranked, int count, double minP, double[] w) {
        double threshold = minP * w[ranked[0]];
        int kept = 1;
        while (kept < count && w[ranked[kept]] >= threshold) kept++;
        return kept;
    }

    private static int drawInIdOrder(int n, double[] w, double uniform) {
        double total = 0;
        for (int i = 0; i < n; i++) total += w[i];
        double target = uniform * total;
        double cumulative = 0;
        int lastPositive = -1;
        for (int i = 0; i < n; i++) {
            if (w[i] == 0) continue;
            cumulative += w[i];
            lastPositive = i;
            if (target < cumulative) return i;
        }
        return lastPositive;
    }

    private static int drawRanked(int[] ranked, int count, double[] w, double uniform) {
        double total = 0;
        for (int j = 0; j < count; j++) total += w[ranked[j]];
        double target = uniform * total;
        double cumulative = 0;
        for (int j = 0; j < count; j++) {
            cumulative += w[ranked[j]];
            if (target < cumulative) return ranked[j];
        }
        return ranked[count - 1];
    }
}
