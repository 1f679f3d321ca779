package dev.podserve.engine;

import java.time.Duration;

/**
 * When a request must have started (been scheduled for its first step) and when it must have
 * finished, as {@link System#nanoTime()} instants. The engine enforces both: a request that has not
 * started by its start deadline fails with {@link QueueTimeoutException} (nothing was computed, so
 * the client may retry); one still running at its finish deadline is aborted like a disconnect, its
 * choices ending with {@link FinishReason#ABORT}. Either way its KV pages return at once.
 *
 * <p>The choices of one response ({@code n}, {@code best_of}) are separate engine requests that
 * share one instance: the response has started once any of them is scheduled, and from then on
 * the start deadline holds for none of them. A choice still waiting for a sequence slot behind its
 * siblings is not a server too busy to start the response: failing it would throw away the work of
 * the others (and, with {@code n} above {@code max-num-seqs}, every long enough response).
 *
 * @param startMark    set by the engine's thread when the first request sharing these deadlines is scheduled
 * @param knowsArrival whether {@code arrivalNanos} is when the request reached the server (its admission gate):
 *                     the engine's latency metrics (queue time, time to first token, end to end) count from
 *                     there, so a wait for a place at the gate is queue time as the client saw it; without it,
 *                     from the engine's submit
 */
public record Deadlines(boolean limitsStart, long startByNanos, boolean limitsFinish, long finishByNanos,
                        java.util.concurrent.atomic.AtomicBoolean startMark, boolean knowsArrival, long arrivalNanos) {

    public static final Deadlines NONE = new Deadlines(false, 0, false, 0, new java.util.concurrent.atomic.AtomicBoolean(), false, 0);

    /**
     * @param arrivalNanos  when the request arrived ({@link System#nanoTime()})
     * @param startWithin   how long it may wait before its first step; zero: no limit
     * @param finishWithin  how long it may take in all; zero: no limit
     */
    public static Deadlines of(long arrivalNanos, Duration startWithin, Duration finishWithin) {
        boolean start = !startWithin.isZero();
        boolean finish = !finishWithin.isZero();
        return new Deadlines(start, start ? arrivalNanos + startWithin.toNanos() : 0,
                finish, finish ? arrivalNanos + finishWithin.toNanos() : 0, new java.util.concurrent.atomic.AtomicBoolean(),
                true, arrivalNanos);
    }

    public boolean any() {
        return limitsStart || limitsFinish;
    }

    /** Written as differences so that a wrap of nanoTime cannot flip the comparison. */
    public boolean startPassed(long nowNanos) {
        return limitsStart && !startMark.get() && nowNanos - startByNanos >= 0;
    }

    void markResponseStarted() {
        // NONE is shared by every request without limits: it never needs the mark.
        if (limitsStart || limitsFinish) startMark.set(true);
    }

    /** Whether any request sharing these deadlines has been scheduled. */
    public boolean responseStarted() {
        return startMark.get();
    }

    public boolean finishPassed(long nowNanos) {
        return limitsFinish && nowNanos - finishByNanos >= 0;
    }
}
