package dev.podserve.resilience;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

import org.springframework.stereotype.Component;

import dev.podserve.config.PodserveProperties;

import io.github.resilience4j.ratelimiter.RateLimiterConfig;
import io.github.resilience4j.ratelimiter.internal.AtomicRateLimiter;

/**
 * Per-client rate limits: requests a second and tokens a minute, each a Resilience4j rate limiter
 * (a fixed window refilled every period) that never waits, so a request over the limit is answered
 * 429 at once with the time to the next refill as {@code Retry-After}. Clients are API-key
 * identities, so the map holds at most one entry per configured key (plus the anonymous one).
 */
@Component
public class RateLimits {

    private final int requestsPerSecond;
    private final int tokensPerMinute;
    private final Map<String, Window> requests = new ConcurrentHashMap<>();
    private final Map<String, Window> tokens = new ConcurrentHashMap<>();

    public RateLimits(PodserveProperties props) {
        this.requestsPerSecond = props.resilience().rateLimit().requestsPerSecond();
        this.tokensPerMinute = props.resilience().rateLimit().tokensPerMinute();
    }

    /** Counts one request of {@code client}; throws a 429 when it is over its requests a second. */
    public void checkRequest(String client) {
        if (requestsPerSecond == 0) return;
        Window w = requests.computeIfAbsent(client, c -> new Window("requests-" + c, requestsPerSecond, Duration.ofSeconds(1)));
        if (!w.tryAcquire(1)) {
            throw new RejectedException(RejectedException.Reason.REQUEST_RATE, "Rate limit reached: at most "
                    + requestsPerSecond + " requests a second for this API key; retry after the Retry-After delay.",
                    w.untilRefill());
        }
    }

    /**
     * Charges {@code cost} tokens to {@code client}; throws a 429 when its minute's budget does not
     * cover them, without a {@code Retry-After} when no budget ever could.
     */
    public void chargeTokens(String client, long cost) {
        Window w = tokenWindow(client, cost);
        if (w != null && !w.tryAcquire((int) cost)) throw overTokens(w, cost, 0);
    }

    /**
     * Throws the 429 {@link #chargeTokens} would throw now, charging nothing: a request that must
     * wait for a place is charged when it starts (a limiter cannot give tokens back, and one that
     * never starts should cost none), but one its minute cannot cover is refused before it waits.
     * {@code waiting} tokens of the client's requests already waiting count against what is left of
     * the minute, but not against what any minute could cover: a request that needs no more than a
     * minute's tokens is told to retry, never to shrink.
     */
    public void checkTokens(String client, long cost, long waiting) {
        Window w = tokenWindow(client, cost);
        if (w != null && w.available() < cost + waiting) throw overTokens(w, cost, waiting);
    }

    /** The client's token window, or null when tokens are not limited; throws when no minute could ever cover cost. */
    private Window tokenWindow(String client, long cost) {
        if (tokensPerMinute == 0) return null;
        if (cost > tokensPerMinute) {
            throw new RejectedException(RejectedException.Reason.TOKEN_RATE, "The request needs " + cost
                    + " tokens (prompt plus max_tokens of every choice) but this API key may use at most " + tokensPerMinute
                    + " tokens a minute; lower max_tokens or n.", null);
        }
        return tokens.computeIfAbsent(client, c -> new Window("tokens-" + c, tokensPerMinute, Duration.ofMinutes(1)));
    }

    private RejectedException overTokens(Window w, long cost, long waiting) {
        return new RejectedException(RejectedException.Reason.TOKEN_RATE, "Rate limit reached: this API key may use "
                + tokensPerMinute + " tokens a minute" + (waiting == 0 ? " and this request needs " + cost
                : ", this request needs " + cost + " and its requests already waiting " + waiting)
                + "; retry after the Retry-After delay.", w.untilRefill());
    }

    /**
     * One limiter and where its windows start. Resilience4j counts windows from the moment the
     * limiter is built on the clock it is given; it does not expose that moment, so we hand it the
     * clock and read the moment ourselves, which is what the time to the next refill needs.
     */
    private static final class Window {
        private final AtomicRateLimiter limiter;
        private final long startNanos;
        private final long periodNanos;

        Window(String name, int limit, Duration period) {
            RateLimiterConfig config = RateLimiterConfig.custom()
                    .limitForPeriod(limit)
                    .limitRefreshPeriod(period)
                    .timeoutDuration(Duration.ZERO)
                    .build();
            FirstReadClock clock = new FirstReadClock();
            this.limiter = new AtomicRateLimiter(name, config, clock);
            this.startNanos = clock.first;
            this.periodNanos = period.toNanos();
        }

        boolean tryAcquire(int permits) {
            return limiter.acquirePermission(permits);
        }

        /** Permits left in the current window (the limiter refreshes its count from the clock when asked). */
        int available() {
            return limiter.getMetrics().getAvailablePermissions();
        }

        /** System.nanoTime, remembering its first reading: the limiter's start, read in its constructor. */
        private static final class FirstReadClock implements Supplier<Long> {
            private volatile boolean read;
            private long first;

            @Override
            public Long get() {
                long now = System.nanoTime();
                if (!read) {
                    first = now;
                    read = true;
                }
                return now;
            }
        }

        /** Until the next window: with no waiting allowed nothing is ever reserved, so it refills to the full limit. */
        Duration untilRefill() {
            long into = Math.floorMod(System.nanoTime() - startNanos, periodNanos);
            return Duration.ofNanos(periodNanos - into);
        }
    }
}
