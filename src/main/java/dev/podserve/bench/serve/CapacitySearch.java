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

    public CapacitySearch(double maxP99ItlMs, double maxMedianTtftMs, double startRate, double maxRate, int refineSteps) {
        if (!(startRate > 0) || maxRate < startRate) throw new IllegalArgumentException("need 0 < --search-start-rate <= --search-max-rate");
        if (refineSteps < 0) throw new IllegalArgumentException("--search-steps must be >= 0");
        this.maxP99ItlMs = maxP99ItlMs;
        this.maxMedianTtftMs = maxMedianTtftMs;
        this.startRate = startRate;
        this.maxRate = maxRate;
        this.refineSteps = refineSteps;
    }

    public boolean meetsSlo(BenchmarkSummary s) {
        return s.failed() == 0 && s.completed() > 0 && s.itlMs().p99() <= maxP99ItlMs && s.ttftMs().median() <= maxMedianTtftMs;
    }

    public Result search(Prober prober) throws InterruptedException {
        List<Probe> probes = new ArrayList<>();
        double pass = 0;
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
