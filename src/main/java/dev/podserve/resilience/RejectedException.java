package dev.podserve.resilience;

import java.time.Duration;

/**
 * A request the server turned away to protect itself, before any work was done for it: the API
 * answers with {@link #status()} in OpenAI's envelope and, when known, a {@code Retry-After} header.
 * Never a 5xx for a client's excess (429); 503 only when the server itself cannot serve.
 */
public class RejectedException extends RuntimeException {

    /** Why, as the {@code reason} label of {@code podserve:requests_rejected_total}. */
    public enum Reason {
        /** Every place in the engine and in the waiting queue was taken. */
        OVERLOADED(429),
        /** The request waited longer than {@code max-queue-time}. */
        QUEUE_TIMEOUT(429),
        /** Its API key sent more requests a second than allowed. */
        REQUEST_RATE(429),
        /** Its API key asked for more tokens a minute than allowed. */
        TOKEN_RATE(429),
        /** The compute backend keeps failing (circuit breaker open). */
        BACKEND_FAILING(503),
        /** The server is shutting down. */
        SHUTTING_DOWN(503);

        private final int status;

        Reason(int status) {
            this.status = status;
        }

        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private final Reason reason;
    private final Duration retryAfter;

    /** @param retryAfter when a retry may succeed; null sends no {@code Retry-After} */
    public RejectedException(Reason reason, String message, Duration retryAfter) {
        super(message);
        this.reason = reason;
        this.retryAfter = retryAfter;
    }

    public Reason reason() {
        return reason;
    }

    public int status() {
        return reason.status;
    }

    /** Null when the server cannot say. */
    public Duration retryAfter() {
        return retryAfter;
    }

    /** {@code Retry-After} in whole seconds, rounded up and at least 1, as the header takes them; -1 when unknown. */
    public long retryAfterSeconds() {
        if (retryAfter == null) return -1;
        long ms = retryAfter.toMillis();
        return Math.max(1, (ms + 999) / 1000);
    }

    // A rejection is routine flow, not a bug: no stack trace to fill on every 429.
    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }
}
