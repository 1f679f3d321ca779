package dev.podserve.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import org.junit.jupiter.api.Test;

class ModelWeightsTest {

    private static ModelConfig awkward() {
        return new ModelConfig("LlamaForCausalLM", 101, 96, 200, 2, 6, 3, 16, 1e-5f, 10000.0, 512, false, 1, new int[] {2});
    }

    private static ModelConfig tiedTiny() {
        ModelConfig t = ModelShapes.tiny();
        return new ModelConfig(t.architecture(), t.vocabSize(), t.hiddenSize(), t.intermediateSize(), t.numLayers(),
                t.numHeads(), t.numKvHeads(), t.headDim(), t.rmsNormEps(), t.ropeTheta(), t.maxPositionEmbeddings(), true,
                t.bosTokenId(), t.eosTokenIds());
    }

    @Test
    void layerTensorsTileTheirFusedArraysExactly() {
        ModelConfig cfg = awkward().withQkvBias(true);
        LayerWeights l = LayerWeights.allocate(cfg);
        for (float[] array : List.of(l.inputNorm(), l.qkv(), l.wo(), l.postAttnNorm(), l.gateUp(), l.down(), l.qkvBias())) {
            int[] owners = new int[array.length];
            for (LayerTensor t : LayerTensor.values()) {
                if (t.array(l) != array) continue;
                for (int i = t.offset(l); i < t.offset(l) + t.length(l); i++) owners[i]++;
            }
            for (int c : owners) assertThat(c).isEqualTo(1);
        }
        assertThat(LayerTensor.WK.offset(l)).isEqualTo(cfg.qDim() * cfg.hiddenSize());
        assertThat(LayerTensor.UP.offset(l)).isEqualTo(cfg.intermediateSize() * cfg.hiddenSize());
        assertThat(LayerTensor.DOWN.rows(l)).isEqualTo(cfg.hiddenSize());
        assertThat(LayerTensor.DOWN.cols(l)).isEqualTo(cfg.intermediateSize());
        assertThat(LayerTensor.WO.cols(l)).isEqualTo(cfg.qDim());
        assertThat(LayerTensor.GATE.hfSuffix()).isEqualTo("mlp.gate_proj.weight");
        assertThat(l.qkvRows()).isEqualTo(cfg.qDim() + 2 * cfg.kvDim());
        assertThat(LayerTensor.K_BIAS.offset(l)).isEqualTo(cfg.qDim());
        assertThat(LayerTensor.V_BIAS.offset(l)).isEqualTo(cfg.qDim() + cfg.kvDim());
        assertThat(LayerTensor.V_BIAS.hfSuffix()).isEqualTo("self_attn.v_proj.bias");
        assertThat(LayerTensor.K_BIAS.hfShape(l)).containsExactly(cfg.kvDim());
        assertThat(LayerTensor.INPUT_NORM.hfShape(l)).containsExactly(cfg.hiddenSize());
        assertThat(LayerTensor.WK.hfShape(l)).containsExactly(cfg.kvDim(), cfg.hiddenSize());
    }

    @Test
    void biasTensorsArePresentOnlyWhereTheArchitectureHasThem() {
        ModelConfig llama = awkward();
        LayerWeights l = LayerWeights.allocate(llama);
        assertThat(l.qkvBias()).isNull();
        for (LayerTensor t : LayerTensor.values()) {
            assertThat(t.presentFor(llama)).as(t.name()).isEqualTo(!t.isBias());
            assertThat(t.presentFor(llama.withQkvBias(true))).as(t.name()).isTrue();
        }
        assertThat(LayerTensor.Q_BIAS.array(l)).isNull();
        ModelWeights plain = ModelWeights.allocate(llama);
        assertThatThrownBy(() -> new ModelWeights(llama.withQkvBias(true), plain.embed(), plain.layers(), plain.finalNorm(),
                plain.lmHead())).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("biases");
        assertThatThrownBy(() -> new LayerWeights(llama, l.inputNorm(), l.qkv(), l.wo(), l.postAttnNorm(), l.gateUp(), l.down(),
                new float[l.qkvRows()])).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("no q/k/v biases");
        assertThatThrownBy(() -> new LayerWeights(llama.withQkvBias(true), l.inputNorm(), l.qkv(), l.wo(), l.postAttnNorm(),
                l.gateUp(), l.down(), new float[3])).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bias");
    }

    @Test
    void allocateSharesTheTableOnlyWhenTiedAndCountsBytes() {
        ModelWeights untied = ModelWeights.allocate(awkward());
        assertThat(untied.lmHead()).isNotSameAs(untied.embed());
        ModelWeights tied = ModelWeights.allocate(tiedTiny(), 3);
        assertThat(tied.lmHead()).isSameAs(tied.embed());
        assertThat(tied.bytes()).isEqualTo(tiedTiny().parameterCount() * Float.BYTES);
        assertThat(untied.bytes()).isEqualTo(awkward().parameterCount() * Float.BYTES);
        ModelConfig biased = awkward().withQkvBias(true);
        assertThat(ModelWeights.allocate(biased).bytes()).isEqualTo(biased.parameterCount() * Float.BYTES)
                .isGreaterThan(untied.bytes());
    }

    @Test
    void rejectsMismatchedShapes() {
        ModelConfig cfg = awkward();
        ModelWeights ok = ModelWeights.allocate(cfg);
        assertThatThrownBy(() -> new ModelWeights(cfg, ok.embed(), ok.layers().subList(0, 1), ok.finalNorm(), ok.lmHead()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("layers");
        assertThatThrownBy(() -> new LayerWeights(cfg, new float[96], new float[5], new float[0], new float[96],
                new float[0], new float[0])).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("q/k/v_proj");
        ModelConfig tiedCfg = tiedTiny();
        ModelWeights t = ModelWeights.allocate(tiedCfg);
        assertThatThrownBy(() -> new ModelWeights(tiedCfg, t.embed(), t.layers(), t.finalNorm(), t.embed().clone()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tie_word_embeddings");
    }
}
