package dev.podserve.engine;

import dev.podserve.model.GenerationConfig;
import dev.podserve.model.ModelConfig;
import dev.podserve.tokenizer.ChatTemplate;
import dev.podserve.tokenizer.HfTokenizer;

/**
 * The model being served, ready: its identity for {@code /v1/models}, its tokenizer and chat
 * template, the sampling defaults its checkpoint ships, and the engine that runs it.
 *
 * @param servedName      the id clients put in {@code model}
 * @param root            where it came from (folder path, or the embedded default's name)
 * @param chatTemplate    null when the checkpoint has none
 * @param createdEpochSec when loading finished (the {@code created} field of {@code /v1/models})
 */
public record ServingModel(
        String servedName,
        String root,
        ModelConfig config,
        GenerationConfig generationConfig,
        HfTokenizer tokenizer,
        ChatTemplate chatTemplate,
        Engine engine,
        String backendDescription,
        long createdEpochSec) {

    /** Whether responses report prompt tokens served from the prefix cache; a model without an engine reports none. */
    public boolean prefixCaching() {
        return engine != null && engine.prefixCaching();
    }

    public int maxModelLen() {
        return engine.maxModelLen();
    }

    /** See {@link Engine#maxRequestTokens()}. */
    public int maxRequestTokens() {
        return engine.maxRequestTokens();
    }
}
