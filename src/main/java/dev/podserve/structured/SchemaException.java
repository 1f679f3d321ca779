package dev.podserve.structured;

/** A response format's schema is malformed, or asks for something the server cannot enforce. */
public final class SchemaException extends RuntimeException {

    public SchemaException(String message) {
        super(message);
    }
}
