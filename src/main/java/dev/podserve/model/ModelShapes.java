package dev.podserve.model;

/**
 * Named model shapes for tests and benchmarks that need a config without a {@code config.json}.
 * The served default is always read from its own {@code config.json}; these only share its shape.
 */
public final class ModelShapes {

    private ModelShapes() {
    }

    /**
     * The embedded default ({@code models/podserve-tiny/config.json}): 4 layers, hidden 256, MLP 688,
     * 8 query heads and 2 KV heads of 32 dims, a 259-token byte-level vocabulary (256 bytes and three
     * specials), untied embeddings.
     */
    public static ModelConfig tiny() {
        return new ModelConfig("LlamaForCausalLM", 259, 256, 688, 4, 8, 2, 32, 1e-5f, 10000.0, 4096, false,
                256, new int[] {258});
    }

    /**
     * Llama-3.2-1B's shapes: vocab 128256, hidden 2048, MLP 8192, 16 layers, 32 query heads and 8 KV
     * heads of 64 dims, tied embeddings, llama3 rope scaling (factor 32 over 8192 pretraining tokens);
     * about 1.24B parameters.
     */
    public static ModelConfig llama32OneB() {
        return new ModelConfig("LlamaForCausalLM", 128256, 2048, 8192, 16, 32, 8, 64, 1e-5f, 500000.0, 131072, true,
                128000, new int[] {128001, 128008, 128009}).withRope(500000.0, RopeScaling.llama3(32, 1, 4, 8192));
    }

    /**
     * Llama-3-8B's shapes: vocab 128256, hidden 4096, MLP 14336, 32 layers, 32 query heads and 8 KV
     * heads of 128 dims, untied embeddings, 8192 positions, rope theta 500000 with llama3 scaling
     * (factor 8, low 1, high 4 over 8192 original positions); about 8.03B parameters.
     */
    public static ModelConfig llama3EightB() {
        return new ModelConfig("LlamaForCausalLM", 128256, 4096, 14336, 32, 32, 8, 128, 1e-5f, 500000.0, 8192, false,
                128000, new int[] {128001, 128009}).withRope(500000.0, RopeScaling.llama3(8, 1, 4, 8192));
    }
}
