package dev.podserve.bench.serve;

import java.util.Random;

/**
 * When each request is sent, as offsets in seconds from the start of a run.
 *
 * <p>With an infinite rate every request goes at time 0 (the offline case). Otherwise the gaps
 * between arrivals are gamma-distributed with shape {@code burstiness} and mean {@code 1 / rate},
 * which is what {@code vllm bench serve --burstiness} means: burstiness 1 is a Poisson process
 * (exponential gaps); below 1 the gaps' coefficient of variation is {@code 1/sqrt(burstiness)} > 1,
 * so arrivals bunch up; above 1 they become more even. The mean rate stays the same either way.
 *
 * <p>The drawn schedule is then stretched so that the last request arrives at exactly
 * {@code count / rate}, as vLLM's does: with a few dozen requests the sum of the draws alone strays
 * far from its mean (30 requests from seed 8 end at 31.3 / rate, an offered load 4% under the
 * label; other seeds 17% under or 7% over), and the rate a result is labelled with would not be
 * the load it was measured at.
 */
public final class ArrivalSchedule {

    private ArrivalSchedule() {
    }

    public static double[] offsets(int count, double rate, double burstiness, long seed) {
        if (!(rate > 0)) throw new IllegalArgumentException("--rate must be > 0 (or inf)");
        if (!(burstiness > 0)) throw new IllegalArgumentException("--burstiness must be > 0");
        double[] at = new double[count];
        if (Double.isInfinite(rate)) return at;
        Random random = new Random(seed);
        double scale = 1.0 / (rate * burstiness);
        double t = 0;
        for (int i = 0; i < count; i++) {
            // The first request waits one gap too, as in vLLM: the schedule is a stationary process from 0.
            t += gamma(burstiness, random) * scale;
            at[i] = t;
        }
        if (count > 0 && at[count - 1] > 0) {
            double stretch = (count / rate) / at[count - 1];
            for (int i = 0; i < count; i++) at[i] *= stretch;
        }
        return at;
    }

    /**
     * A Gamma(shape, 1) draw by Marsaglia and Tsang's method; for shape below 1, the usual boost:
     * Gamma(shape + 1) times U^(1/shape).
     */
    static double gamma(double shape, Random random) {
        if (shape < 1) {
            double u = random.nextDouble();
            while (u == 0) u = random.nextDouble();
            return gamma(shape + 1, random) * Math.pow(u, 1.0 / shape);
        }
        double d = shape - 1.0 / 3.0;
        double c = 1.0 / Math.sqrt(9 * d);
        while (true) {
            double x;
            double v;
            do {
                x = random.nextGaussian();
                v = 1 + c * x;
            } while (v <= 0);
            v = v * v * v;
            double u = random.nextDouble();
            if (u < 1 - 0.0331 * x * x * x * x) return d * v;
            if (Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) return d * v;
        }
    }
}
