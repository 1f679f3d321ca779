package dev.podserve.backend.cpu;

import java.util.Arrays;

import dev.podserve.model.LayerWeights;
import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelWeights;
import dev.podserve.model.RopeFrequencies;

/**
 * The model written as plainly as possible, to test {@link CpuBackend} against: one request at a
 * time, one token at a time, scalar loops accumulating in double, a contiguous KV cache per request
 * (no pages), RoPE angles computed on the spot from the rope type's frequencies, the sliding window
 * as a bound on the attention loop. Slow, and meant to be obviously right.
 */
public final class ReferenceForward {

    private final ModelConfig cfg;
    private final ModelWeights w;
    private final RopeFrequencies freqs;

    public ReferenceForward(ModelConfig cfg, ModelWeights w) {
        this.cfg = cfg;
        this.w = w;
        this.freqs = new RopeFrequencies(cfg);
    }

    /** A fresh request with an empty context. */
    public Sequence newSequence() {
        return new Sequence();
    }

    /** One request's growing context. */
    public final class Sequence {

        /** [layer] -> [positions][kvDim]: keys after RoPE, position-major, grown by doubling. */
        private final float[][] keys = new float[cfg.numLayers()][0];
        /** [layer] -> [positions][kvDim]: values. */
        private final float[][] values = new float[cfg.numLayers()][0];
        private int length;

        public int length() {
            return length;
        }

        /** Feeds the tokens in order and returns the logits after the last one ({@code [vocab]}). */
        public float[] appendAll(int... tokens) {
            float[] logits = null;
            for (int t : tokens) logits = append(t);
            return logits;
        }

        /** Feeds one token at the next position; returns the logits predicting the token after it. */
        public float[] append(int token) {
            int hidden = cfg.hiddenSize();
            int pos = length;
            float[] h = Arrays.copyOfRange(w.embed(), token * hidden, (token + 1) * hidden);
            for (int l = 0; l < cfg.numLayers(); l++) {
                LayerWeights lw = w.layer(l);
                float[] x = rmsNorm(h, lw.inputNorm());
                float[] q = project(lw.qkv(), 0, cfg.qDim(), x, lw.qkvBias());
                float[] k = project(lw.qkv(), cfg.qDim(), cfg.kvDim(), x, lw.qkvBias());
                float[] v = project(lw.qkv(), cfg.qDim() + cfg.kvDim(), cfg.kvDim(), x, lw.qkvBias());
                for (int head = 0; head < cfg.numHeads(); head++) rope(q, head * cfg.headDim(), pos);
                for (int head = 0; head < cfg.numKvHeads(); head++) rope(k, head * cfg.headDim(), pos);
                store(l, pos, k, v);
                float[] attn = attend(l, q, pos);
                add(h, project(lw.wo(), 0, hidden, attn, null));
                x = rmsNorm(h, lw.postAttnNorm());
                float[] gate = project(lw.gateUp(), 0, cfg.intermediateSize(), x, null);
                float[] up = project(lw.gateUp(), cfg.intermediateSize(), cfg.intermediateSize(), x, null);
                float[] a = new float[gate.length];
                for (int i = 0; i < a.length; i++) {
                    double g = gate[i];
                    a[i] = (float) (g / (1 + Math.exp(-g)) * up[i]);
                }
                add(h, project(lw.down(), 0, hidden, a, null));
            }
            length++;
            return project(w.lmHead(), 0, cfg.vocabSize(), rmsNorm(h, w.finalNorm()), null);
        }

        private void store(int layer, int pos, float[] k, float[] v) {
            int kvDim = cfg.kvDim();
            if (keys[layer].length < (pos + 1) * kvDim) {
                keys[layer] = Arrays.copyOf(keys[layer], Math.max(pos + 1, 2 * pos) * kvDim);
                values[layer] = Arrays.copyOf(values[layer], keys[layer].length);
            }
            System.arraycopy(k, 0, keys[layer], pos * kvDim, kvDim);
            System.arraycopy(v, 0, values[layer], pos * kvDim, kvDim);
        }

        /**
         * Causal attention of the query at {@code pos} over positions 0..pos, or the last
         * {@code window} of them in a sliding layer, head by head (GQA).
         */
        private float[] attend(int layer, float[] q, int pos) {
            int hd = cfg.headDim();
            float[] out = new float[cfg.qDim()];
            double scale = 1.0 / Math.sqrt(hd);
            int window = cfg.windowOf(layer);
            int from = window > 0 ? Math.max(0, pos - window + 1) : 0;
            for (int head = 0; head < cfg.numHeads(); head++) {
                int kvHead = head / cfg.groupSize();
                double[] p = new double[pos + 1];
                double max = Double.NEGATIVE_INFINITY;
                for (int j = from; j <= pos; j++) {
                    double s = 0;
                    for (int d = 0; d < hd; d++) s += (double) q[head * hd + d] * keys[layer][j * cfg.kvDim() + kvHead * hd + d];
                    p[j] = s * scale;
                    max = Math.max(max, p[j]);
                }
                double sum = 0;
                for (int j = from; j <= pos; j++) {
                    p[j] = Math.exp(p[j] - max);
                    sum += p[j];
                }
                for (int d = 0; d < hd; d++) {
                    double o = 0;
                    for (int j = from; j <= pos; j++) o += p[j] * values[layer][j * cfg.kvDim() + kvHead * hd + d];
                    out[head * hd + d] = (float) (o / sum);
                }
            }
            return out;
        }
    }

    /**
     * Rows {@code firstRow .. firstRow+rows-1} of the row-major matrix m (row length = x.length) times
     * x, plus the same rows of {@code bias} when there is one.
     */
    private static float[] project(float[] m, int firstRow, int rows, float[] x, float[] bias) {
        float[] y = new float[rows];
        for (int n = 0; n < rows; n++) {
            double s = bias == null ? 0 : bias[firstRow + n];
            int base = (firstRow + n) * x.length;
            for (int k = 0; k < x.length; k++) s += (double) m[base + k] * x[k];
            y[n] = (float) s;
        }
        return y;
    }

    private float[] rmsNorm(float[] x, float[] gain) {
        double ss = 0;
        for (float v : x) ss += (double) v * v;
        double inv = 1.0 / Math.sqrt(ss / x.length + cfg.rmsNormEps());
        float[] out = new float[x.length];
        for (int i = 0; i < x.length; i++) out[i] = (float) (gain[i] * (x[i] * inv));
        return out;
    }

    /**
     * HF "rotate_half": dims i and i + headDim/2 rotate together by pos * inv_freq[i], the angle
     * rounded to float as transformers' float32 product is, cos and sin times the attention factor.
     */
    private void rope(float[] v, int off, int pos) {
        int half = cfg.headDim() / 2;
        float[] inv = freqs.at(pos);
        double factor = freqs.attentionFactor();
        for (int i = 0; i < half; i++) {
            float angle = (float) ((double) inv[i] * pos);
            double c = Math.cos(angle) * factor;
            double s = Math.sin(angle) * factor;
            double x1 = v[off + i];
            double x2 = v[off + half + i];
            v[off + i] = (float) (x1 * c - x2 * s);
            v[off + half + i] = (float) (x2 * c + x1 * s);
        }
    }

    private static void add(float[] h, float[] delta) {
        for (int i = 0; i < h.length; i++) h[i] += delta[i];
    }
}
