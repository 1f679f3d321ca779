package dev.podserve.security;

/** No valid API key: 401 in OpenAI's envelope, with {@code WWW-Authenticate: Bearer}. */
public class UnauthorizedException extends RuntimeException {

    public UnauthorizedException(String message) {
        super(message);
    }

    // Routine flow for a probe or a scanner, not a bug: no stack trace to fill.
    @Override
    public synchronized Throwable fillInStackTrace() {
        return this;
    }
}
