package dev.podserve.api;

import java.util.function.IntSupplier;

import dev.podserve.api.dto.SamplingFields;
import dev.podserve.api.dto.Usage;

import tools.jackson.databind.node.NullNode;

/**
 * How a stream reports its token counts ({@code stream_options}): not at all; OpenAI's
 * {@code include_usage}, a last chunk with the usage and {@code "usage": null} on every other chunk;
 * or besides that vLLM's {@code continuous_usage_stats}, every other chunk carrying the counts of
 * the choice it is about, so far.
 */
enum StreamUsage {
    NONE, LAST_CHUNK, EVERY_CHUNK;

    /**
     * The request's choice, checked: {@code stream_options} needs {@code stream}, a 400 as in vLLM.
     * {@code continuous_usage_stats} needs {@code include_usage} as in vLLM, where it is on unless
     * set false; left out beside it, it counts as true here too. Alone it stays OpenAI's default,
     * false, so an OpenAI client sending {@code stream_options: {}} gets no chunk it does not expect.
     */
    static StreamUsage of(SamplingFields r) {
        boolean stream = Boolean.TRUE.equals(r.stream());
        if (r.streamOptions() != null && !stream) {
            throw ApiException.badRequest("stream_options", "stream_options is only allowed when stream is true.");
        }
        if (!stream || r.streamOptions() == null) return NONE;
        Boolean include = r.streamOptions().includeUsage();
        if (Boolean.TRUE.equals(r.streamOptions().continuousUsageStats())) {
            return Boolean.FALSE.equals(include) ? NONE : EVERY_CHUNK;
        }
        return Boolean.TRUE.equals(include) ? LAST_CHUNK : NONE;
    }

    /** Whether a chunk of its own, with no choices, ends the stream with the response's usage. */
    boolean lastChunk() {
        return this != NONE;
    }

    /**
     * What a choice's chunk carries as {@code usage}: nothing (null: the field is left out), JSON
     * null, or its prompt's tokens and the choice's completion tokens so far, with no cached-token
     * details (vLLM sends those in the last chunk only). The prompt is counted only when needed.
     */
    Object slot(IntSupplier promptTokens, int completionTokens) {
        return switch (this) {
            case NONE -> null;
            case LAST_CHUNK -> NullNode.getInstance();
            case EVERY_CHUNK -> Usage.of(promptTokens.getAsInt(), completionTokens, null);
        };
    }
}
