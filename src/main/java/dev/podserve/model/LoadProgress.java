package dev.podserve.model;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;

/**
 * Counts converted bytes and finished tensors from the loader threads and logs a progress line at
 * most every {@link #INTERVAL_NANOS}; whichever thread finishes a piece past the deadline logs, so no
 * timer thread is needed.
 */
final class LoadProgress {

    static final long INTERVAL_NANOS = 2_000_000_000L;

    private final Logger log;
    private final String what;
    private final int totalTensors;
    private final long totalBytes;
    private final long start;
    /** Pieces still to convert, per tensor: the tensor is done when its count reaches zero. */
    private final AtomicInteger[] piecesLeft;
    private final AtomicInteger tensorsDone = new AtomicInteger();
    private final AtomicLong bytesDone = new AtomicLong();
    private final AtomicLong nextLog;

    /** @param start when the load began, so rates include opening and allocating, as the final summary's do */
    LoadProgress(Logger log, String what, int[] piecesPerTensor, long totalBytes, long start) {
        this.log = log;
        this.start = start;
        // The first line comes an interval after conversion starts, not after the load began (allocation may take longer).
        this.nextLog = new AtomicLong(System.nanoTime() + INTERVAL_NANOS);
        this.what = what;
        this.totalTensors = piecesPerTensor.length;
        this.totalBytes = totalBytes;
        this.piecesLeft = new AtomicInteger[piecesPerTensor.length];
        for (int i = 0; i < piecesPerTensor.length; i++) {
            piecesLeft[i] = new AtomicInteger(piecesPerTensor[i]);
            if (piecesPerTensor[i] == 0) tensorsDone.incrementAndGet();
        }
    }

    void pieceDone(int tensor, long bytes) {
        bytesDone.addAndGet(bytes);
        if (piecesLeft[tensor].decrementAndGet() == 0 && tensorsDone.incrementAndGet() == totalTensors) return;
        long now = System.nanoTime();
        long due = nextLog.get();
        if (now >= due && nextLog.compareAndSet(due, now + INTERVAL_NANOS)) logLine(now);
    }

    /** Logs the final line (the last piece never logs, so it is not printed twice). */
    void finish() {
        logLine(System.nanoTime());
    }

    private void logLine(long now) {
        double seconds = (now - start) / 1e9;
        long bytes = bytesDone.get();
        log.info("loading {}: {}/{} tensors, {}/{} MB, {} MB/s", what, tensorsDone.get(), totalTensors,
                String.format("%.1f", bytes / 1e6), String.format("%.1f", totalBytes / 1e6),
                seconds > 0 ? Math.round(bytes / 1e6 / seconds) : 0);
    }
}
