package dev.podserve.bench.serve;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Runs one pass: sends each request at its scheduled offset, at most {@code maxConcurrency} in
 * flight (a request that finds no free slot waits for one, so its TTFT does not include the wait,
 * as in vLLM), and collects the results once all have finished.
 */
public final class BenchmarkRunner {

    /** The results of one pass, in request order, and its wall time. */
    public record Run(List<RequestResult> results, double durationS, BenchmarkSummary summary) {
    }

    private final StreamingClient client;
    private final int maxConcurrency;

    /** @param maxConcurrency 0 for no cap */
    public BenchmarkRunner(StreamingClient client, int maxConcurrency) {
        if (maxConcurrency < 0) throw new IllegalArgumentException("--max-concurrency must be >= 0");
        this.client = client;
        this.maxConcurrency = maxConcurrency;
    }

    public Run run(List<BenchRequest> requests, double[] offsets) throws InterruptedException {
        if (offsets.length != requests.size()) throw new IllegalArgumentException("one offset per request");
        Semaphore slots = maxConcurrency > 0 ? new Semaphore(maxConcurrency) : null;
        List<CompletableFuture<RequestResult>> futures = new ArrayList<>(requests.size());
        long start = System.nanoTime();
        for (int i = 0; i < requests.size(); i++) {
            long due = start + (long) (offsets[i] * 1e9);
            long wait = due - System.nanoTime();
            if (wait > 0) TimeUnit.NANOSECONDS.sleep(wait);
            if (slots != null) slots.acquire();
            CompletableFuture<RequestResult> f = client.send(requests.get(i), start);
            if (slots != null) f = f.whenComplete((r, e) -> slots.release());
            futures.add(f);
        }
        List<RequestResult> results = new ArrayList<>(futures.size());
        for (CompletableFuture<RequestResult> f : futures) results.add(f.join());
        double duration = (System.nanoTime() - start) / 1e9;
        return new Run(results, duration, BenchmarkSummary.of(results, duration));
    }
}
