package dev.podserve.backend;

/**
 * Wraps the compute backend the loader made before the engine gets it, to watch or guard its calls
 * (the circuit breaker is one). Spring beans of this type are applied in their {@code @Order}, each
 * around the previous one's result, so the last is outermost.
 */
@FunctionalInterface
public interface BackendDecorator {

    ComputeBackend decorate(ComputeBackend backend);
}
