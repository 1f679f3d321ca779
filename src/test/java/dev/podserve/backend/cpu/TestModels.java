package dev.podserve.backend.cpu;

import java.util.List;

import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelShapes;

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
}
