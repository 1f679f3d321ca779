package dev.podserve.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinTask;

import dev.podserve.sampling.SamplingState;

/**
 * One step's token masks (structured outputs, {@code allowed_token_ids}), worked out on the common
 * pool while the step's forward pass runs: the vocabulary walks take from a few microseconds to a
 * millisecond or more each on a large vocabulary. Keeps the clock for the metrics: how long the work took, and how long the engine
 * thread waited for it (the part the forward pass did not hide). Used by the engine thread.
 */
final class StepMasks {

    private final List<ActiveRequest> rows;
    private final int count;
    private final ForkJoinTask<?> task;
    private final long started = System.nanoTime();
    private volatile long finished;
    private long waited;

    private StepMasks(List<ActiveRequest> rows, List<SamplingState> masked) {
        this.rows = rows;
        this.count = masked.size();
        // A walk that fails is left to fail again, and fail its own request only, when the sampler asks.
        this.task = ForkJoinPool.commonPool().submit(() -> {
            masked.parallelStream().forEach(state -> {
                try {
                    state.allowedTokenMask();
                } catch (RuntimeException | StackOverflowError e) {
                    // Reported by the sampler, per request (where the same walk fails again).
                }
            });
            finished = System.nanoTime();
        });
    }

    /** Starts the masks of the masked rows among {@code rows}; null when there are none. */
    static StepMasks start(List<ActiveRequest> rows) {
        List<SamplingState> masked = new ArrayList<>();
        for (ActiveRequest r : rows) {
            if (r != null && r.sampling.masked()) masked.add(r.sampling);
        }
        return masked.isEmpty() ? null : new StepMasks(rows, masked);
    }

    /** Waits for the masks; afterwards their states are visible to this thread. */
    void await() {
        long t = System.nanoTime();
        task.join();
        waited += System.nanoTime() - t;
    }

    /**
     * [S]: each masked row's mask, null for the others, once worked out. A row whose mask
     * could not be worked out gets none: its token is then checked on the host, where the same
     * failure fails its request alone.
     */
    long[][] rowMasks() {
        await();
        long[][] out = new long[rows.size()][];
        for (int i = 0; i < out.length; i++) {
            ActiveRequest r = rows.get(i);
            if (r == null || !r.sampling.masked()) continue;
            try {
                out[i] = r.sampling.allowedTokenMask();
            } catch (RuntimeException e) {
                out[i] = null;
            }
        }
        return out;
    }

    int count() {
        return count;
    }

    /** From the start of the work to its end; valid after {@link #await}. */
    long workNanos() {
        return finished - started;
    }

    /** How long the engine thread waited for the work in all. */
    long waitNanos() {
        return waited;
    }
}
