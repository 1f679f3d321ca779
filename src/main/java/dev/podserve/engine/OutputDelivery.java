package dev.podserve.engine;

import java.util.ArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the engine's signals to the requests' sinks are emitted. Whatever a response does with an
 * output runs on the thread that emits it until a {@code publishOn} moves it, and even that move
 * costs the emitting thread a queue offer and, usually, a wake-up of the target event loop: tens of
 * microseconds an output, so most of a millisecond a step at 22 decodes. On a backend whose forward
 * pass leaves the host's cores idle, the device waits for all of that between two steps. There the
 * signals of one step are collected and handed in one go to a thread of their own, which emits
 * them while the next step runs. On the CPU backend they are emitted at once: a second thread
 * would only take cores from the forward pass.
 *
 * <p>The signals of one request keep their order either way: only the engine thread adds them,
 * one thread emits them, and batches run in the order they were flushed. Every signal a request
 * gets must go through the same delivery, or that order is lost.
 */
abstract class OutputDelivery implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(OutputDelivery.class);

    /** Emits each signal at once on the calling thread; {@link #flush} has nothing to do. */
    static OutputDelivery inline() {
        return new Inline();
    }

    /** Collects signals until {@link #flush}, then emits them on a daemon thread called {@code threadName}. */
    static OutputDelivery onOwnThread(String threadName) {
        return new OwnThread(threadName);
    }

    /** Queues (or emits) one signal, such as {@code () -> sink.tryEmitNext(output)}. Engine thread only. */
    abstract void emit(Runnable signal);

    /** Hands over everything emitted since the last flush. Engine thread only. */
    abstract void flush();

    /** Flushes, then waits a bounded time for every handed-over signal to be emitted. */
    @Override
    public abstract void close();

    private static final class Inline extends OutputDelivery {
        @Override
        void emit(Runnable signal) {
            signal.run();
        }

        @Override
        void flush() {
        }

        @Override
        public void close() {
        }
    }

    private static final class OwnThread extends OutputDelivery {
        private final ExecutorService thread;
        /** Signals since the last flush, in emission order; a fresh list after each flush (the old one is handed over). */
        private ArrayList<Runnable> pending = new ArrayList<>();

        OwnThread(String threadName) {
            // One thread, unbounded queue: a batch is never refused, and batches run in order.
            thread = new ThreadPoolExecutor(1, 1, 0, TimeUnit.MILLISECONDS, new LinkedBlockingQueue<>(), r -> {
                Thread t = new Thread(r, threadName);
                t.setDaemon(true);
                return t;
            });
        }

        @Override
        void emit(Runnable signal) {
            pending.add(signal);
        }

        @Override
        void flush() {
            if (pending.isEmpty()) return;
            ArrayList<Runnable> batch = pending;
            pending = new ArrayList<>(batch.size());
            thread.execute(() -> {
                for (Runnable signal : batch) {
                    try {
                        signal.run();
                    } catch (RuntimeException e) {
                        // One response's failure must not cost the others in the batch their outputs.
                        log.error("delivering an engine output failed", e);
                    }
                }
            });
        }

        @Override
        public void close() {
            flush();
            thread.shutdown();
            try {
                if (!thread.awaitTermination(10, TimeUnit.SECONDS)) {
                    log.warn("engine outputs still undelivered 10 s after shutdown");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
