package dev.podserve.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

import dev.podserve.model.ModelConfig;
import dev.podserve.model.RopeScaling;

/**
 * The rotation table against cos and sin that transformers 5.17 (torch 2.11, CPU) returned from
 * {@code LlamaRotaryEmbedding.forward} for one pair at one position; YaRN's values include its
 * attention factor, the dynamic NTK one was taken one token per pass, past max_position_embeddings.
 */
class RopeTableTest {

    private static ModelConfig config(int headDim, int maxPositions, double theta, RopeScaling scaling) {
        return new ModelConfig("LlamaForCausalLM", 10, 4 * headDim, 8, 1, 4, 4, headDim, 1e-5f, theta, maxPositions, false, 1,
                new int[] {2}).withRope(theta, scaling);
    }

    @Test
    void rotatesAsTransformers() {
        check(config(128, 131072, 500000, RopeScaling.llama3(8, 1, 4, 8192)), 1000, 10, -0.9930554f, 0.11764777f);
        check(config(64, 131072, 500000, RopeScaling.llama3(32, 1, 4, 8192)), 9000, 30, 0.99999917f, 0.0012773444f);
        check(config(128, 32768, 1e6, RopeScaling.yarn(4, 32768, 32, 1, RopeScaling.yarnMscale(4, 1), true)), 1000, 5,
                0.9830934f, 0.5744601f);
        check(config(64, 8192, 10000, RopeScaling.yarn(2, 4096, 16, 2, RopeScaling.yarnMscale(2, 1), false)), 5000, 20,
                -0.17756683f, 1.0544686f);
        check(config(64, 4096, 10000, RopeScaling.dynamic(2)), 4096, 3, 0.7720706f, -0.6355368f);
    }

    /** Rotating the unit vector of pair i's first dimension yields (cos, sin) in dimensions i and i + half. */
    private static void check(ModelConfig cfg, int position, int pair, float cos, float sin) {
        RopeTable table = new RopeTable(cfg);
        table.ensure(position + 1);
        int half = cfg.headDim() / 2;
        float[] v = new float[cfg.headDim()];
        v[pair] = 1;
        table.rotate(v, 0, position);
        String what = cfg.ropeScaling().type() + " position " + position + " pair " + pair;
        assertThat(v[pair]).as(what + " cos").isCloseTo(cos, within(1.5e-7f));
        assertThat(v[half + pair]).as(what + " sin").isCloseTo(sin, within(1.5e-7f));
    }

    @Test
    void servesPositionsUpToTheScaledContextOnly() {
        RopeTable table = new RopeTable(config(16, 64, 10000, RopeScaling.dynamic(4)));
        table.ensure(256);
        assertThatThrownBy(() -> table.ensure(257)).hasMessageContaining("beyond the model's context of 256");
    }
}
