package dev.podserve.engine;

/** A snapshot the engine publishes after every step, readable from any thread. */
public record EngineStats(int running, int waiting, double kvUsage, long preemptions, long steps) {
}
