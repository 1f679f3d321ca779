package dev.podserve.metrics;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Histogram bucket bounds as vLLM's v1 Prometheus logger sets them, so heatmaps and quantile
 * panels of its dashboards read the same.
 */
final class VllmBuckets {

    static final double[] TIME_TO_FIRST_TOKEN_SECONDS = {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25,
        0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0};

    static final double[] INTER_TOKEN_LATENCY_SECONDS = {0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5,
        0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0};

    static final double[] REQUEST_LATENCY_SECONDS = {0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0,
        30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0, 7680.0};

    static final double[] ITERATION_TOKENS = {1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384};

    /** vLLM has no step timer; these span a sub-millisecond GPU step to a slow CPU one. */
    static final double[] STEP_FORWARD_SECONDS = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
        0.5, 1.0, 2.5, 5.0, 10.0};

    private VllmBuckets() {
    }

    /** 1, 2, 5, 10, 20, 50, ... while at most max, as vLLM's build_1_2_5_buckets(max_model_len). */
    static double[] oneTwoFive(int max) {
        List<Double> bounds = new ArrayList<>();
        int[] mantissas = {1, 2, 5};
        for (long exponent = 1; ; exponent *= 10) {
            for (int m : mantissas) {
                long bound = m * exponent;
                if (bound > max) return bounds.stream().mapToDouble(Double::doubleValue).toArray();
                bounds.add((double) bound);
            }
        }
    }

    static Duration[] durations(double[] seconds) {
        return Arrays.stream(seconds).mapToObj(s -> Duration.ofNanos(Math.round(s * 1e9))).toArray(Duration[]::new);
    }
}
