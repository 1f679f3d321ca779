package dev.podserve.bench.serve;

import java.util.Arrays;

/**
 * Mean, median, P90, P99, min, max and standard deviation of a sample, in milliseconds.
 * Percentiles interpolate linearly between the closest ranks and the deviation is the population's
 * (NumPy's defaults), the definitions vLLM's benchmark uses, so the two tools' numbers are comparable.
 */
public record LatencyStats(int count, double mean, double median, double p90, double p99, double min, double max, double std) {

    public static final LatencyStats EMPTY = new LatencyStats(0, 0, 0, 0, 0, 0, 0, 0);

    public static LatencyStats of(double[] values) {
        if (values.length == 0) return EMPTY;
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        double sum = 0;
        for (double v : sorted) sum += v;
        double mean = sum / sorted.length;
        double squares = 0;
        for (double v : sorted) squares += (v - mean) * (v - mean);
        return new LatencyStats(sorted.length, mean, percentile(sorted, 50), percentile(sorted, 90),
                percentile(sorted, 99), sorted[0], sorted[sorted.length - 1], Math.sqrt(squares / sorted.length));
    }

    /** The p-th percentile of an ascending array, interpolating between ranks at position p/100 * (n-1). */
    public static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) throw new IllegalArgumentException("percentile of nothing");
        double rank = p / 100.0 * (sorted.length - 1);
        int lo = (int) Math.floor(rank);
        int hi = Math.min(lo + 1, sorted.length - 1);
        return sorted[lo] + (rank - lo) * (sorted[hi] - sorted[lo]);
    }
}
