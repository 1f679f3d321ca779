package dev.podserve.engine;

/** The compute step that held this request failed; the engine went on serving the others. */
public class StepFailedException extends RuntimeException {
    public StepFailedException(String message, Throwable cause) {
        super(message, cause);
    }
}
