/**
 * The chunked-prefill scheduler: decides, every engine step, which requests advance by how many
 * tokens, and turns that into the {@link dev.podserve.attention.HybridBatch} the backends run.
 *
 * <p>Pure bookkeeping, no model and no threads: the engine thread is the only caller of the
 * mutating methods. The metric getters ({@code numRunning}, {@code numWaiting},
 * {@code numPreemptions}, {@code kvUsage}) only read single fields, so a metrics thread may call
 * them and get a value at most a step stale.
 */
package dev.podserve.scheduler;
