package dev.podserve.sampling;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;

/**
 * Slow, obviously-correct versions of what the sampler computes, written without the sampler's
 * tricks (no rank keys, no heap, no selection): boxed full sorts and plain double arithmetic.
 */
final class Reference {

    private Reference() {
    }

    static double[] logSoftmax(double[] x) {
        double max = Double.NEGATIVE_INFINITY;
        for (double v : x) max = Math.max(max, v);
        double sum = 0;
        for (double v : x) sum += Math.exp(v - max);
        double lse = max + Math.log(sum);
        double[] out = new double[x.length];
        for (int i = 0; i < x.length; i++) out[i] = x[i] - lse;
        return out;
    }

    static double[] toDouble(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) d[i] = x[i];
        return d;
    }

    /** Token ids best first: higher logit first, lower id on ties. */
    static List<Integer> ranking(double[] x) {
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < x.length; i++) ids.add(i);
        ids.sort(Comparator.<Integer>comparingDouble(i -> -x[i]).thenComparingInt(i -> i));
        return ids;
    }

    /**
     * The probability of each token under temperature, then top-k, then top-p (smallest best-first
     * set reaching topP of the remaining mass), then min-p (relative to the best token).
     */
    static double[] distribution(double[] x, double temperature, int topK, double topP, double minP) {
        int n = x.length;
        List<Integer> order = ranking(x);
        double max = x[order.get(0)];
        double[] w = new double[n];
        for (int i = 0; i < n; i++) w[i] = Math.exp((x[i] - max) / temperature);
        int kept = n;
        if (topK >= 1 && topK < n) {
            kept = topK;
            // Ties with the k-th token stay, as in transformers' TopKLogitsWarper and vLLM.
            while (kept < n && x[order.get(kept)] == x[order.get(kept - 1)]) kept++;
        }
        if (topP < 1) {
            double total = 0;
            for (int j = 0; j < kept; j++) total += w[order.get(j)];
            double mass = 0;
            int j = 0;
            while (j < kept && mass < topP * total) mass += w[order.get(j++)];
            kept = j;
        }
        double[] p = new double[n];
        double total = 0;
        for (int j = 0; j < kept; j++) {
            int token = order.get(j);
            if (w[token] >= minP * w[order.get(0)]) {
                p[token] = w[token];
                total += w[token];
            }
        }
        for (int i = 0; i < n; i++) p[i] /= total;
        return p;
    }

    static float[] gaussianLogits(int n, double scale, long seed) {
        Random r = new Random(seed);
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float) (r.nextGaussian() * scale);
        return x;
    }

    static float[] logitsOf(double... probabilities) {
        float[] x = new float[probabilities.length];
        for (int i = 0; i < x.length; i++) x[i] = (float) Math.log(probabilities[i]);
        return x;
    }

    static int[] noTokens() {
        return new int[0];
    }

    static SamplingState state(SamplingParams p, int vocab) {
        return new SamplingState(p, noTokens(), noTokens(), vocab);
    }
}
