package dev.podserve.bench.serve;

import java.util.ArrayList;
import java.util.List;

/**
 * Finds the highest request rate that still meets the latency SLOs: P99 inter-token latency (time
 * between tokens) at most {@code maxP99ItlMs} and median TTFT at most {@code maxMedianTtftMs}, with
 * every request successful.
 *
 * <p>Latency grows with the rate until the server saturates, so the search assumes a single
 * boundary: it doubles the rate from {@code startRate} until a probe misses the SLO (or
 * {@code maxRate} passes), then bisects between the highest passing and the lowest failing rate
 * {@code refineSteps} times. Each probe is a full benchmark pass, which is why the steps are few.
 *
 * <p>A ladder of given rates ({@link #ladder}) instead probes them in ascending order and stops at
 * the first miss. Two servers (or two attention modes) searched on the same ladder are measured at
 * the same rates, so each shared rate is also a side-by-side comparison, and where a probe costs
 * minutes of a GPU the ladder's resolution is chosen where it matters instead of by halving.
 */
public final class CapacitySearch {

    /** Runs one pass at a rate. */
    @FunctionalInterface
    public interface Prober {
        BenchmarkSummary probe(double rate) throws InterruptedException;
    }

    public record Probe(double rate, boolean meetsSlo, BenchmarkSummary summary) {
    }

    /** @param capacity highest passing rate, or 0 when none passed */
    public record Result(double capacity, List<Probe> probes) {
    }

    private final double maxP99ItlMs;
    private final double maxMedianTtftMs;
    private final double startRate;
    private final double maxRate;
    private final int refineSteps;
    private final double[] ladder;  // ascending rates to probe, or null for doubling then bisection

    public CapacitySearch(double maxP99ItlMs, double maxMedianTtftMs, double startRate, double maxRate, int refineSteps) {
        if (!(startRate > 0) || maxRate < startRate) throw new IllegalArgumentException("need 0 < --search-start-rate <= --search-max-rate");
        if (refineSteps < 0) throw new IllegalArgumentException("--search-steps must be >= 0");
        this.maxP99ItlMs = maxP99ItlMs;
        this.maxMedianTtftMs = maxMedianTtftMs;
        this.startRate = startRate;
        this.maxRate = maxRate;
        this.refineSteps = refineSteps;
        this.ladder = null;
    }

    private CapacitySearch(double maxP99ItlMs, double maxMedianTtftMs, double[] ladder) {
        this.maxP99ItlMs = maxP99ItlMs;
        this.maxMedianTtftMs = maxMedianTtftMs;
        this.startRate = ladder[0];
        this.maxRate = ladder[ladder.length - 1];
        this.refineSteps = 0;
        this.ladder = ladder;
    }

    /** A search over exactly these rates (any order given; probed ascending, duplicates once). */
    public static CapacitySearch ladder(double maxP99ItlMs, double maxMedianTtftMs, double... rates) {
        double[] sorted = java.util.Arrays.stream(rates).sorted().distinct().toArray();
        if (sorted.length == 0 || !(sorted[0] > 0) || Double.isInfinite(sorted[sorted.length - 1])) {
            throw new IllegalArgumentException("--search-rates needs finite rates above 0");
        }
        return new CapacitySearch(maxP99ItlMs, maxMedianTtftMs, sorted);
    }

    public boolean meetsSlo(BenchmarkSummary s) {
        return s.failed() == 0 && s.completed() > 0 && s.itlMs().p99() <= maxP99ItlMs && s.ttftMs().median() <= maxMedianTtftMs;
    }

    public Result search(Prober prober) throws InterruptedException {
        List<Probe> probes = new ArrayList<>();
        double pass = 0;
        if (ladder != null) {
            for (double rate : ladder) {
                if (!probe(prober, rate, probes)) break;
                pass = rate;
            }
            return new Result(pass, probes);
        }
        double fail = Double.NaN;
        for (double rate = startRate; rate <= maxRate; rate *= 2) {
            if (probe(prober, rate, probes)) {
                pass = rate;
            } else {
                fail = rate;
                break;
            }
        }
        // Everything up to maxRate passed: the capacity is at least that, and nothing bounds it from above.
        if (Double.isNaN(fail)) return new Result(pass, probes);
        for (int i = 0; i < refineSteps; i++) {
            double mid = (pass + fail) / 2;
            if (probe(prober, mid, probes)) pass = mid;
            else fail = mid;
        }
        return new Result(pass, probes);
    }

    private boolean probe(Prober prober, double rate, List<Probe> probes) throws InterruptedException {
        BenchmarkSummary s = prober.probe(rate);
        boolean ok = meetsSlo(s);
        probes.add(new Probe(rate, ok, s));
        return ok;
    }
}
