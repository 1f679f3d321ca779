package dev.podserve.backend.cpu;

import java.util.List;

import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelShapes;
import dev.podserve.model.RopeScaling;

/** Model shapes for backend tests: the served default plus awkward ones that catch indexing slips. */
final class TestModels {

    private TestModels() {
    }

    static ModelConfig config(int vocab, int hidden, int inter, int layers, int heads, int kvHeads, int headDim, boolean tied) {
        return new ModelConfig("LlamaForCausalLM", vocab, hidden, inter, layers, heads, kvHeads, headDim, 1e-5f, 10000.0,
                1024, tied, 1, new int[] {2});
    }

    /** hidden 96 = 6 heads of 16 over 3 KV heads (GQA 2), MLP 200 and vocab 101 off every vector multiple, untied. */
    static ModelConfig awkward() {
        return config(101, 96, 200, 2, 6, 3, 16, false);
    }

    /** Plain multi-head attention (GQA 1); head_dim 8, narrower than a vector. */
    static ModelConfig gqa1() {
        return config(67, 48, 72, 2, 6, 6, 8, true);
    }

    /** Eight query heads on one KV head (GQA 8). */
    static ModelConfig gqa8() {
        return config(77, 128, 150, 2, 8, 1, 16, true);
    }

    /** The default tiny model has GQA 4 (8 heads, 2 KV heads). */
    static List<ModelConfig> all() {
        return List.of(ModelShapes.tiny(), awkward(), gqa1(), gqa8());
    }

    /** Qwen2's shape of model: q/k/v biases, tied embeddings, theta 1e6. */
    static ModelConfig qwen2Like() {
        return gqa8().withQkvBias(true).withRope(1e6, RopeScaling.none());
    }

    /** Mistral's: a sliding window of {@code window} tokens in every layer. */
    static ModelConfig mistralLike(int window) {
        return awkward().withSlidingWindow(window);
    }

    /** Both at once, the window in the second layer only (Qwen2 with use_sliding_window past max_window_layers). */
    static ModelConfig biasAndLastLayerWindow(int window) {
        ModelConfig c = awkward();
        return new ModelConfig("Qwen2ForCausalLM", c.vocabSize(), c.hiddenSize(), c.intermediateSize(), c.numLayers(),
                c.numHeads(), c.numKvHeads(), c.headDim(), c.rmsNormEps(), c.ropeTheta(), c.maxPositionEmbeddings(),
                c.tieWordEmbeddings(), c.bosTokenId(), c.eosTokenIds(), RopeScaling.none(), window,
                new boolean[] {false, true}, true);
    }

    /**
     * Every scaled rope type over a pretraining context of {@code original} tokens, each serving
     * 8 times that, so that modest prompts run past the original context.
     */
    static List<ModelConfig> ropeTypes(int original) {
        return List.of(
                maxPositions(8 * original).withRope(10000, RopeScaling.linear(8)),
                maxPositions(original).withRope(10000, RopeScaling.dynamic(8)),
                maxPositions(8 * original).withRope(500000, RopeScaling.llama3(8, 1, 4, original)),
                maxPositions(original).withRope(10000, RopeScaling.yarn(8, original, 32, 1, RopeScaling.yarnMscale(8, 1), true)));
    }

    /** GQA 3, head_dim 8, with the given max_position_embeddings. */
    private static ModelConfig maxPositions(int n) {
        return new ModelConfig("LlamaForCausalLM", 67, 48, 72, 2, 6, 2, 8, 1e-5f, 10000.0, n, true, 1, new int[] {2});
    }
}
