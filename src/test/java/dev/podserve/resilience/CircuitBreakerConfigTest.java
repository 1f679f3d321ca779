package dev.podserve.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import dev.podserve.config.PodserveProperties;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;

/** The breaker's rule alone: failed steps open it; slow steps that succeed never do. */
class CircuitBreakerConfigTest {

    @Test
    void slowButSuccessfulStepsNeverOpenItAndFailuresStillDo() {
        // 50% of the last 4 steps, at least 2.
        PodserveProperties.CircuitBreaker c = new PodserveProperties.CircuitBreaker(true, 50, 4, 2, Duration.ofSeconds(1), 1);
        CircuitBreaker b = CircuitBreaker.of("test", BackendCircuitBreaker.config(c));
        for (int i = 0; i < 20; i++) {
            assertThat(b.tryAcquirePermission()).isTrue();
            // Resilience4j's default would call a step over 60 s slow, and a window of them opens the breaker.
            b.onSuccess(Duration.ofMinutes(10 + i).toNanos(), TimeUnit.NANOSECONDS);
        }
        assertThat(b.getState()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(b.getMetrics().getNumberOfSlowCalls()).isZero();
        for (int i = 0; i < 2; i++) {
            b.tryAcquirePermission();
            b.onError(1, TimeUnit.MILLISECONDS, new IllegalStateException("step failed"));
        }
        assertThat(b.getState()).isEqualTo(CircuitBreaker.State.OPEN);
    }
}
