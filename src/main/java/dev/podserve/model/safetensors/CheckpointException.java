package dev.podserve.model.safetensors;

/**
 * A checkpoint that cannot be served as it is on disk. The message always names the file and,
 * where one is at fault, the tensor or header field, because it is shown as the reason startup stopped.
 */
public class CheckpointException extends RuntimeException {

    public CheckpointException(String message) {
        super(message);
    }

    public CheckpointException(String message, Throwable cause) {
        super(message, cause);
    }
}
