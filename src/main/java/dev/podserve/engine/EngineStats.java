package dev.podserve.engine;

/**
 * A snapshot the engine publishes after every step, readable from any thread.
 *
 * @param prefixCacheQueries prompt tokens of admitted requests looked up in the prefix cache
 * @param prefixCacheHits    of those, the tokens found there and not computed
 */
public record EngineStats(int running, int waiting, double kvUsage, long preemptions, long steps,
                          long prefixCacheQueries, long prefixCacheHits) {
}
