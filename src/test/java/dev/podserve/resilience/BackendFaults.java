package dev.podserve.resilience;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.springframework.boot.test.context.TestConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.core.Ordered;

import dev.podserve.attention.HybridBatch;
import dev.podserve.backend.BackendDecorator;
import dev.podserve.backend.ComputeBackend;
import dev.podserve.model.ModelConfig;

/**
 * A backend decorator for tests: slows every forward pass down, or makes it fail, on demand.
 * Ordered first, so the circuit breaker wraps it and sees its failures as the backend's.
 */
public final class BackendFaults implements BackendDecorator, Ordered {

    /** Adds one to a test's application. */
    @TestConfiguration(proxyBeanMethods = false)
    public static class Config {
        @Bean
        BackendFaults backendFaults() {
            return new BackendFaults();
        }
    }

    private volatile long delayMillis;
    private volatile boolean failing;
    /** While not null, every forward pass waits for it to open (at most a minute, so a failed test cannot hang the engine). */
    private volatile CountDownLatch held;

    /** Each forward pass takes at least this long, so requests stay in the engine a predictable while. */
    public void delay(long millis) {
        delayMillis = millis;
    }

    public void failing(boolean on) {
        failing = on;
    }

    /** Stops the engine at its next forward pass, so what runs makes no progress until {@link #release}. */
    public void hold() {
        held = new CountDownLatch(1);
    }

    public void release() {
        CountDownLatch h = held;
        held = null;
        if (h != null) h.countDown();
    }

    public void reset() {
        delayMillis = 0;
        failing = false;
        release();
    }

    @Override
    public int getOrder() {
        return 0;
    }

    @Override
    public ComputeBackend decorate(ComputeBackend inner) {
        return new ComputeBackend() {
            @Override
            public float[][] forward(HybridBatch batch) {
                if (failing) throw new IllegalStateException("injected backend failure");
                CountDownLatch h = held;
                if (h != null) {
                    try {
                        h.await(1, TimeUnit.MINUTES);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                long d = delayMillis;
                if (d > 0) {
                    try {
                        Thread.sleep(d);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return inner.forward(batch);
            }

            @Override
            public ModelConfig config() {
                return inner.config();
            }

            @Override
            public int numKvBlocks() {
                return inner.numKvBlocks();
            }

            @Override
            public int pageSize() {
                return inner.pageSize();
            }

            @Override
            public String describe() {
                return inner.describe();
            }

            @Override
            public void close() {
                inner.close();
            }
        };
    }
}
