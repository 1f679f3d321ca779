package dev.podserve.backend;

import dev.podserve.attention.HybridBatch;
import dev.podserve.model.ModelConfig;

/**
 * Runs the model over one hybrid batch. The backend owns the KV cache storage (numKvBlocks pages
 * of pageSize tokens); the scheduler owns which pages belong to whom and hands them over in the
 * batch's CSR arrays.
 */
public interface ComputeBackend extends AutoCloseable {

    ModelConfig config();

    /** Pages of KV storage this backend holds. */
    int numKvBlocks();

    int pageSize();

    /** A short name for logs and metadata, e.g. "cpu (vector, 2 threads)". */
    String describe();

    /**
     * Appends this step's K/V to the cache and returns the logits of the last query row of each of
     * {@code batch.sampleRequests()}, in that order: {@code float[S][vocabSize]}. The rows may be
     * the backend's own buffers, valid until its next {@code forward}: callers consume a step's
     * logits before running the next step.
     */
    float[][] forward(HybridBatch batch);

    @Override
    default void close() {
    }
}
