package dev.podserve.engine;

import java.time.Duration;

/**
 * When a request must have started (been scheduled for its first step) and when it must have
 * finished, as {@link System#nanoTime()} instants. The engine enforces both: a request that has not
 * started by its start deadline fails with {@link QueueTimeoutException} (nothing was computed, so
 * the client may retry); one still running at its finish deadline is aborted like a disconnect, its
 * choices ending with {@link FinishReason#ABORT}. Either way its KV pages return at once.
 */
public record Deadlines(boolean limitsStart, long startByNanos, boolean limitsFinish, long finishByNanos) {

    public static final Deadlines NONE = new Deadlines(false, 0, false, 0);

    /**
     * @param arrivalNanos  when the request arrived ({@link System#nanoTime()})
     * @param startWithin   how long it may wait before its first step; zero: no limit
     * @param finishWithin  how long it may take in all; zero: no limit
     */
    public static Deadlines of(long arrivalNanos, Duration startWithin, Duration finishWithin) {
        boolean start = !startWithin.isZero();
        boolean finish = !finishWithin.isZero();
        return new Deadlines(start, start ? arrivalNanos + startWithin.toNanos() : 0,
                finish, finish ? arrivalNanos + finishWithin.toNanos() : 0);
    }

    public boolean any() {
        return limitsStart || limitsFinish;
    }

    /** Written as differences so that a wrap of nanoTime cannot flip the comparison. */
    public boolean startPassed(long nowNanos) {
        return limitsStart && nowNanos - startByNanos >= 0;
    }

    public boolean finishPassed(long nowNanos) {
        return limitsFinish && nowNanos - finishByNanos >= 0;
    }
}
