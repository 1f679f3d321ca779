package dev.podserve.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/**
 * RoPE inverse frequencies per rope type: against the formulas written out plainly in double here,
 * against values transformers computed, and against what each type is for.
 */
class RopeFrequenciesTest {

    static ModelConfig config(int headDim, int maxPositions, double theta, RopeScaling scaling) {
        return new ModelConfig("LlamaForCausalLM", 10, 4 * headDim, 8, 1, 4, 4, headDim, 1e-5f, theta, maxPositions, false, 1,
                new int[] {2}).withRope(theta, scaling);
    }

    // ---- the formulas, in double ----

    static double[] plain(double theta, int dim) {
        double[] f = new double[dim / 2];
        for (int i = 0; i < f.length; i++) f[i] = Math.pow(theta, -2.0 * i / dim);
        return f;
    }

    /** Meta's Llama 3.1 rule: keep short wavelengths, divide long ones, blend in between. */
    static double[] llama3(double theta, int dim, double factor, double low, double high, double original) {
        double[] f = plain(theta, dim);
        for (int i = 0; i < f.length; i++) {
            double wavelength = 2 * Math.PI / f[i];
            if (wavelength > original / low) {
                f[i] /= factor;
            } else if (wavelength >= original / high) {
                double smooth = (original / wavelength - low) / (high - low);
                f[i] = (1 - smooth) * f[i] / factor + smooth * f[i];
            }
        }
        return f;
    }

    /**
     * YaRN as transformers ramps it: the pair index at which a pair turns b times over the original
     * context is d·ln(L / 2πb) / 2ln θ; pairs below the one for beta_fast are kept, pairs above the
     * one for beta_slow divided by the factor, a straight line in the index in between.
     */
    static double[] yarn(double theta, int dim, double factor, int original, double betaFast, double betaSlow, boolean truncate) {
        double low = dim * Math.log(original / (2 * Math.PI * betaFast)) / (2 * Math.log(theta));
        double high = dim * Math.log(original / (2 * Math.PI * betaSlow)) / (2 * Math.log(theta));
        if (truncate) {
            low = Math.floor(low);
            high = Math.ceil(high);
        }
        low = Math.max(low, 0);
        high = Math.min(high, dim - 1);
        if (low == high) high += 0.001;
        double[] f = plain(theta, dim);
        for (int i = 0; i < f.length; i++) {
            double interpolated = Math.min(1, Math.max(0, (i - low) / (high - low)));
            f[i] = f[i] * (1 - interpolated) + f[i] / factor * interpolated;
        }
        return f;
    }

    /** NTK-aware base for a sequence of len tokens (len past maxPositions), from the dynamic NTK write-up. */
    static double dynamicBase(double theta, int dim, double factor, int maxPositions, int len) {
        return theta * Math.pow(factor * len / maxPositions - (factor - 1), dim / (dim - 2.0));
    }

    static void assertClose(float[] got, double[] want, String what) {
        assertThat(got).hasSize(want.length);
        for (int i = 0; i < want.length; i++) {
            assertThat((double) got[i]).as(what + " pair " + i).isCloseTo(want[i], within(want[i] * 1e-6));
        }
    }

    @Test
    void everyTypeComputesItsFormula() {
        assertClose(new RopeFrequencies(config(64, 4096, 10000, RopeScaling.none())).at(7), plain(10000, 64), "default");
        double[] linear = plain(10000, 32);
        for (int i = 0; i < linear.length; i++) linear[i] /= 2;
        assertClose(new RopeFrequencies(config(32, 4096, 10000, RopeScaling.linear(2))).at(0), linear, "linear");
        assertClose(new RopeFrequencies(config(128, 131072, 500000, RopeScaling.llama3(8, 1, 4, 8192))).at(0),
                llama3(500000, 128, 8, 1, 4, 8192), "llama3 8B");
        assertClose(new RopeFrequencies(config(64, 131072, 500000, RopeScaling.llama3(32, 1, 4, 8192))).at(0),
                llama3(500000, 64, 32, 1, 4, 8192), "llama3 1B");
        assertClose(new RopeFrequencies(config(16, 1024, 500000, RopeScaling.llama3(8, 1, 4, 64))).at(0),
                llama3(500000, 16, 8, 1, 4, 64), "llama3 short original");
        assertClose(new RopeFrequencies(config(128, 32768, 1e6, RopeScaling.yarn(4, 32768, 32, 1, 1.1, true))).at(0),
                yarn(1e6, 128, 4, 32768, 32, 1, true), "yarn");
        assertClose(new RopeFrequencies(config(64, 8192, 10000, RopeScaling.yarn(2, 4096, 16, 2, 1, false))).at(0),
                yarn(10000, 64, 2, 4096, 16, 2, false), "yarn untruncated");
        assertClose(new RopeFrequencies(config(64, 4096, 10000, RopeScaling.dynamic(2))).at(6000),
                plain(dynamicBase(10000, 64, 2, 4096, 6001), 64), "dynamic");
    }

    /**
     * Values transformers 5.17 (torch 2.11, CPU) computed: {@code inv_freq} and {@code attention_scaling}
     * of {@code LlamaRotaryEmbedding} for the configs below. Agreement to an ulp (transformers works
     * in float32, each step rounded).
     */
    @Test
    void matchesTransformers() {
        check(config(128, 131072, 500000, RopeScaling.llama3(8, 1, 4, 8192)), new int[] {0, 20, 40, 45, 50, 63},
                new float[] {1.0f, 0.01656044f, 3.4281024e-05f, 1.2297639e-05f, 4.4115345e-06f, 3.068926e-07f});
        check(config(64, 131072, 500000, RopeScaling.llama3(32, 1, 4, 8192)), new int[] {0, 10, 20, 25, 31},
                new float[] {1.0f, 0.01656044f, 8.570256e-06f, 1.1028836e-06f, 9.4183065e-08f});
        check(config(32, 4096, 10000, RopeScaling.linear(2)), new int[] {0, 5, 15}, new float[] {0.5f, 0.028117064f, 8.891397e-05f});
        check(config(64, 4096, 10000, RopeScaling.none()), new int[] {0, 17, 31}, new float[] {1.0f, 0.0074989423f, 0.00013335215f});
        RopeFrequencies qwenYarn = check(config(128, 32768, 1e6, RopeScaling.yarn(4, 32768, 32, 1, RopeScaling.yarnMscale(4, 1), true)),
                new int[] {0, 10, 20, 30, 40, 50, 63},
                new float[] {1.0f, 0.1154782f, 0.013335215f, 0.001064361f, 4.4456985e-05f, 5.1338125e-06f, 3.1023444e-07f});
        assertThat(qwenYarn.attentionFactor()).isEqualTo((float) 1.138629436111989);
        check(config(64, 163840, 10000, RopeScaling.yarn(40, 4096, 32, 1, 1.0, true)), new int[] {0, 5, 10, 15, 20, 31},
                new float[] {1.0f, 0.23713736f, 0.05623413f, 0.008334509f, 0.0007905694f, 3.3338035e-06f});
        RopeFrequencies untruncated = check(config(64, 8192, 10000, RopeScaling.yarn(2, 4096, 16, 2, RopeScaling.yarnMscale(2, 1), false)),
                new int[] {0, 10, 14, 18, 25, 31},
                new float[] {1.0f, 0.05623413f, 0.016405012f, 0.003631006f, 0.0003749471f, 6.6676075e-05f});
        assertThat(untruncated.attentionFactor()).isEqualTo((float) 1.0693147180559945);
    }

    private static RopeFrequencies check(ModelConfig cfg, int[] pairs, float[] transformers) {
        RopeFrequencies f = new RopeFrequencies(cfg);
        float[] inv = f.at(0);
        for (int k = 0; k < pairs.length; k++) {
            assertThat(inv[pairs[k]]).as(cfg.ropeScaling().type() + " pair " + pairs[k])
                    .isCloseTo(transformers[k], within(Math.ulp(transformers[k])));
        }
        return f;
    }

    @Test
    void llama3KeepsTheHighFrequenciesAndDividesTheLowestByTheFactor() {
        float[] inv = new RopeFrequencies(config(128, 131072, 500000, RopeScaling.llama3(8, 1, 4, 8192))).at(0);
        float[] base = new RopeFrequencies(config(128, 131072, 500000, RopeScaling.none())).at(0);
        int kept = 0;
        int divided = 0;
        for (int i = 0; i < inv.length; i++) {
            double wavelength = 2 * Math.PI / base[i];
            if (wavelength < 8192 / 4.0) {
                assertThat(inv[i]).as("pair " + i).isEqualTo(base[i]);
                kept++;
            } else if (wavelength > 8192) {
                assertThat(inv[i]).as("pair " + i).isEqualTo(base[i] / 8);
                divided++;
            } else {
                assertThat(inv[i]).as("pair " + i).isStrictlyBetween(base[i] / 8, base[i]);
            }
        }
        // Wavelength 2π·500000^(i/64) passes 2048 after pair 28 and 8192 after pair 34.
        assertThat(inv[0]).isEqualTo(1f);
        assertThat(kept).isEqualTo(29);
        assertThat(divided).isEqualTo(29);
    }

    @Test
    void yarnKeepsFastPairsInterpolatesSlowOnesAndScalesAttention() {
        ModelConfig cfg = config(128, 32768, 1e6, RopeScaling.yarn(4, 32768, 32, 1, RopeScaling.yarnMscale(4, 1), true));
        float[] inv = new RopeFrequencies(cfg).at(0);
        float[] base = new RopeFrequencies(cfg.withRope(1e6, RopeScaling.none())).at(0);
        for (int i = 0; i < inv.length; i++) {
            double turns = 32768 * base[i] / (2 * Math.PI);
            if (turns > 32 * 1.5) assertThat(inv[i]).as("fast pair " + i).isEqualTo(base[i]);
            if (turns < 1 / 1.5) assertThat(inv[i]).as("slow pair " + i).isCloseTo(base[i] / 4, within(Math.ulp(base[i] / 4)));
        }
        assertThat(new RopeFrequencies(cfg).attentionFactor()).isEqualTo((float) (0.1 * Math.log(4) + 1));
        assertThat(RopeScaling.yarnMscale(1, 1)).isEqualTo(1.0);
        assertThat(cfg.maxContextLength()).isEqualTo(131072);
    }

    @Test
    void dynamicIsPlainUpToMaxPositionsAndStretchedPerPositionBeyond() {
        ModelConfig cfg = config(64, 4096, 10000, RopeScaling.dynamic(2));
        RopeFrequencies f = new RopeFrequencies(cfg);
        float[] plain = new RopeFrequencies(cfg.withRope(10000, RopeScaling.none())).at(0);
        assertThat(f.at(0)).containsExactly(plain);
        assertThat(f.at(4095)).containsExactly(plain);
        float[] previous = plain;
        for (int p : new int[] {4096, 4097, 5000, 8191}) {
            float[] inv = f.at(p);
            assertThat(inv[0]).isEqualTo(1f);
            assertThat(inv[31]).as("position " + p).isLessThan(previous[31]);
            assertClose(inv, plain(dynamicBase(10000, 64, 2, 4096, p + 1), 64), "position " + p);
            previous = inv;
        }
        assertThat(f.at(5000)).containsExactly(f.at(5000));
        assertThat(cfg.maxContextLength()).isEqualTo(8192);
        assertThat(f.attentionFactor()).isEqualTo(1f);
    }
}
