package dev.podserve.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;

import java.util.Arrays;

import org.junit.jupiter.api.Test;

class DummyWeightsTest {

    private static ModelConfig untied() {
        return new ModelConfig("LlamaForCausalLM", 97, 80, 150, 3, 5, 1, 16, 1e-5f, 10000.0, 512, false, 1, new int[] {2});
    }

    private static ModelConfig tied() {
        return new ModelConfig("LlamaForCausalLM", 97, 80, 150, 2, 5, 5, 16, 1e-5f, 10000.0, 512, true, 1, new int[] {2});
    }

    @Test
    void sameSeedGivesTheSameWeightsOnAnyThreadCount() {
        for (ModelConfig cfg : new ModelConfig[] {ModelShapes.tiny(), untied(), tied(), tied().withQkvBias(true)}) {
            ModelWeights one = DummyWeights.generate(cfg, 42, 1);
            ModelWeights three = DummyWeights.generate(cfg, 42, 3);
            assertArrayEquals(one.embed(), three.embed());
            assertArrayEquals(one.lmHead(), three.lmHead());
            assertArrayEquals(one.finalNorm(), three.finalNorm());
            for (int l = 0; l < cfg.numLayers(); l++) {
                for (LayerTensor t : LayerTensor.values()) {
                    if (!t.presentFor(cfg)) continue;
                    assertArrayEquals(t.array(one.layer(l)), t.array(three.layer(l)), t + " of layer " + l);
                }
            }
        }
    }

    @Test
    void differentSeedsLayersAndTensorsDiffer() {
        ModelConfig cfg = ModelShapes.tiny();
        ModelWeights a = DummyWeights.generate(cfg, 1, 2);
        ModelWeights b = DummyWeights.generate(cfg, 2, 2);
        assertFalse(Arrays.equals(a.embed(), b.embed()));
        assertFalse(Arrays.equals(a.layer(0).wo(), a.layer(1).wo()), "layers must not repeat");
        LayerWeights l = a.layer(0);
        float[] wk = Arrays.copyOfRange(l.qkv(), LayerTensor.WK.offset(l), LayerTensor.WK.offset(l) + LayerTensor.WK.length(l));
        float[] wv = Arrays.copyOfRange(l.qkv(), LayerTensor.WV.offset(l), LayerTensor.WV.offset(l) + LayerTensor.WV.length(l));
        assertFalse(Arrays.equals(wk, wv), "k and v projections must not repeat");
    }

    @Test
    void scalesGiveUnitVarianceProjectionsAndNormGainsNearOne() {
        ModelConfig cfg = untied().withQkvBias(true);
        ModelWeights w = DummyWeights.generate(cfg, 9, 2);
        LayerWeights l = w.layer(1);
        for (LayerTensor t : LayerTensor.values()) {
            float[] a = t.array(l);
            int from = t.offset(l);
            int to = from + t.length(l);
            if (t == LayerTensor.INPUT_NORM || t == LayerTensor.POST_ATTN_NORM) {
                for (int i = from; i < to; i++) assertThat(a[i]).isBetween(0.9f, 1.1f);
                continue;
            }
            if (t.isBias()) {
                double sq = 0;
                for (int i = from; i < to; i++) {
                    assertThat(Math.abs(a[i])).as(t.name()).isLessThan(0.35f);
                    sq += (double) a[i] * a[i];
                }
                assertThat(Math.sqrt(sq / (to - from))).as(t + " RMS").isBetween(0.12, 0.28);
                continue;
            }
            double expectedVar = 1.0 / t.cols(l);
            double var = 0;
            double mean = 0;
            for (int i = from; i < to; i++) {
                var += (double) a[i] * a[i];
                mean += a[i];
            }
            var /= to - from;
            mean /= to - from;
            assertThat(var / expectedVar).as(t + " variance ratio").isBetween(0.85, 1.15);
            assertThat(Math.abs(mean)).as(t + " mean").isLessThan(0.2 * Math.sqrt(expectedVar));
        }
        for (float g : w.finalNorm()) assertThat(g).isBetween(0.9f, 1.1f);
        double headVar = 0;
        for (float v : w.lmHead()) headVar += (double) v * v;
        headVar /= w.lmHead().length;
        double logitVar = headVar * cfg.hiddenSize();
        assertThat(Math.sqrt(logitVar)).as("logit std for a unit-RMS hidden state").isBetween(3.5, 4.5);
    }

    @Test
    void biasesAreAddedWithoutChangingAnyOtherTensor() {
        ModelConfig plain = untied();
        ModelWeights without = DummyWeights.generate(plain, 4, 2);
        ModelWeights with = DummyWeights.generate(plain.withQkvBias(true), 4, 2);
        assertArrayEquals(without.embed(), with.embed());
        for (int l = 0; l < plain.numLayers(); l++) {
            assertThat(without.layer(l).qkvBias()).isNull();
            for (LayerTensor t : LayerTensor.values()) {
                if (t.presentFor(plain)) assertArrayEquals(t.array(without.layer(l)), t.array(with.layer(l)), t.name());
            }
        }
        float[] b = with.layer(0).qkvBias();
        float[] q = Arrays.copyOfRange(b, 0, plain.qDim());
        float[] k = Arrays.copyOfRange(b, plain.qDim(), plain.qDim() + plain.kvDim());
        assertFalse(Arrays.equals(Arrays.copyOf(q, k.length), k), "q and k biases must not repeat");
        assertFalse(Arrays.equals(with.layer(0).qkvBias(), with.layer(1).qkvBias()), "layers must not repeat");
    }

    @Test
    void tiedConfigsShareOneTableAndUntiedOnesDoNot() {
        ModelWeights tied = DummyWeights.generate(tied(), 3, 2);
        assertSame(tied.embed(), tied.lmHead());
        ModelWeights untied = DummyWeights.generate(untied(), 3, 2);
        assertFalse(untied.embed() == untied.lmHead());
        assertFalse(Arrays.equals(untied.embed(), untied.lmHead()));
    }

    @Test
    void unitValuesAreUniformOnMinusOneToOne() {
        long key = DummyWeights.tensorKey(5, 7);
        double sum = 0;
        float min = 1;
        float max = -1;
        int n = 200_000;
        for (int i = 0; i < n; i++) {
            float u = DummyWeights.unit(key, i);
            sum += u;
            min = Math.min(min, u);
            max = Math.max(max, u);
        }
        assertThat(sum / n).isBetween(-0.01, 0.01);
        assertThat(min).isGreaterThanOrEqualTo(-1f).isLessThan(-0.999f);
        assertThat(max).isLessThan(1f).isGreaterThan(0.999f);
    }
}
