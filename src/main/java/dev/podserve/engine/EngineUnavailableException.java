package dev.podserve.engine;

/** The engine is not accepting work: it is loading, shutting down, or has shut down. */
public class EngineUnavailableException extends RuntimeException {
    public EngineUnavailableException(String message) {
        super(message);
    }
}
