/**
 * Bookkeeping of the paged KV cache: which fixed-size pages exist, which are free, and which
 * request owns which pages in which order. Holds no tensors; the backends own the memory and only
 * ever see page ids through {@link dev.podserve.attention.HybridBatch}.
 *
 * <p>Not thread-safe: the engine thread is the only writer. The metric getters only read single
 * {@code int} fields, so a metrics thread may call them and get a value at most a step stale.
 */
package dev.podserve.kvcache;
