package dev.podserve.engine;

/**
 * A request that can never be served as asked (too long for the context, empty, a token id out of
 * the vocabulary). The API turns it into a 400 naming {@code param}.
 */
public class RequestRejectedException extends RuntimeException {

    private final String param;

    public RequestRejectedException(String param, String message) {
        super(message);
        this.param = param;
    }

    public String param() {
        return param;
    }
}
