package dev.podserve.backend.cpu;

import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A fixed set of threads that run parallel loops for the forward pass. The calling thread works too
 * (as worker 0), so a pool of n threads starts only n-1 helpers, once, at construction. Tasks are
 * handed out one at a time from a shared counter, which balances load when other processes share
 * the cores; results never depend on which worker ran which task.
 */
final class WorkerPool implements AutoCloseable {

    /** One unit of a parallel loop; {@code worker} indexes this pool's per-thread scratch. */
    @FunctionalInterface
    interface Task {
        void run(int worker, int task);
    }

    private final int threads;
    private final ExecutorService helpers;
    /** [threads]: scratch of worker i, touched only by the thread currently running as worker i. */
    private final Workspace[] workspaces;

    WorkerPool(int threads, CpuKernels kernels) {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        this.threads = threads;
        AtomicInteger ids = new AtomicInteger();
        this.helpers = threads == 1 ? null : Executors.newFixedThreadPool(threads - 1, r -> {
            Thread t = new Thread(r, "podserve-cpu-" + ids.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.workspaces = new Workspace[threads];
        for (int i = 0; i < threads; i++) workspaces[i] = kernels.newWorkspace();
    }

    int threads() {
        return threads;
    }

    Workspace workspace(int worker) {
        return workspaces[worker];
    }

    /** Runs {@code body} for tasks 0..count-1 and returns when all have finished. */
    void forEach(int count, Task body) {
        int helpersUsed = Math.min(threads, count) - 1;
        if (helpersUsed <= 0) {
            for (int i = 0; i < count; i++) body.run(0, i);
            return;
        }
        AtomicInteger next = new AtomicInteger();
        Future<?>[] futures = new Future<?>[helpersUsed];
        for (int h = 0; h < helpersUsed; h++) {
            int worker = h + 1;
            futures[h] = helpers.submit(() -> drain(next, count, worker, body));
        }
        Throwable failure = null;
        try {
            drain(next, count, 0, body);
        } catch (RuntimeException | Error e) {
            failure = e;
            next.set(count);
        }
        // Helpers must be finished before this returns: the next loop reuses their workspaces.
        boolean interrupted = false;
        for (Future<?> f : futures) {
            while (true) {
                try {
                    f.get();
                    break;
                } catch (ExecutionException e) {
                    if (failure == null) failure = e.getCause();
                    break;
                } catch (InterruptedException e) {
                    interrupted = true;
                    next.set(count);
                }
            }
        }
        if (interrupted) Thread.currentThread().interrupt();
        if (failure instanceof RuntimeException re) throw re;
        if (failure instanceof Error er) throw er;
        if (failure != null) throw new IllegalStateException("parallel CPU task failed", failure);
    }

    private static void drain(AtomicInteger next, int count, int worker, Task body) {
        for (int i; (i = next.getAndIncrement()) < count; ) body.run(worker, i);
    }

    @Override
    public void close() {
        if (helpers != null) helpers.shutdownNow();
    }
}
