package dev.podserve.resilience;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;

import org.junit.jupiter.api.Test;

import dev.podserve.config.PodserveProperties;

/** Requests a second and tokens a minute per client, each refused with the time to the next window. */
class RateLimitsTest {

    private static RateLimits limits(int perSecond, int perMinute) {
        PodserveProperties.Resilience r = new PodserveProperties.Resilience(1, 0, Duration.ZERO, Duration.ZERO,
                Duration.ofSeconds(1), new PodserveProperties.RateLimit(perSecond, perMinute),
                new PodserveProperties.CircuitBreaker(true, 50, 4, 2, Duration.ofSeconds(1), 1), Duration.ofSeconds(1));
        return new RateLimits(new PodserveProperties(null, null, null, null, null, r, null, null, "cpu"));
    }

    @Test
    void requestsASecondPerClientWithTheWaitToTheNextWindow() throws Exception {
        RateLimits limits = limits(3, 0);
        RejectedException refused = null;
        // Within well under a second, at most two windows: six requests cannot all pass.
        for (int i = 0; i < 7 && refused == null; i++) {
            try {
                limits.checkRequest("a");
            } catch (RejectedException e) {
                refused = e;
            }
        }
        assertThat(refused).isNotNull();
        assertThat(refused.reason()).isEqualTo(RejectedException.Reason.REQUEST_RATE);
        assertThat(refused.retryAfter()).isPositive().isLessThanOrEqualTo(Duration.ofSeconds(1));
        limits.checkRequest("b");  // another client has its own window
        Thread.sleep(refused.retryAfter().toMillis() + 5);
        limits.checkRequest("a");  // the window turned
    }

    @Test
    void tokensAMinute() {
        RateLimits limits = limits(0, 1000);
        limits.chargeTokens("a", 600);
        limits.chargeTokens("a", 400);
        assertThatThrownBy(() -> limits.chargeTokens("a", 1)).isInstanceOfSatisfying(RejectedException.class, e -> {
            assertThat(e.reason()).isEqualTo(RejectedException.Reason.TOKEN_RATE);
            assertThat(e.retryAfter()).isPositive().isLessThanOrEqualTo(Duration.ofMinutes(1));
        });
        assertThatThrownBy(() -> limits.chargeTokens("b", 1001)).isInstanceOfSatisfying(RejectedException.class,
                e -> assertThat(e.retryAfter()).isNull());
        limits.chargeTokens("b", 1000);
    }

    @Test
    void zeroMeansOff() {
        RateLimits limits = limits(0, 0);
        for (int i = 0; i < 1000; i++) limits.checkRequest("a");
        limits.chargeTokens("a", Long.MAX_VALUE);
    }
}
