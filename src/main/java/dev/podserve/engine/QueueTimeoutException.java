package dev.podserve.engine;

/**
 * The request reached a deadline before the engine scheduled its first step: the server is busier
 * than the request's limits allow. Nothing was computed for it.
 */
public class QueueTimeoutException extends RuntimeException {
    public QueueTimeoutException(String message) {
        super(message);
    }
}
