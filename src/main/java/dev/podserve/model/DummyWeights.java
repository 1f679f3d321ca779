package dev.podserve.model;

import java.util.ArrayList;
import java.util.List;

/**
 * Random weights for serving a config without a checkpoint (the embedded default model, benchmarks,
 * {@code load-format=dummy}).
 *
 * <p>Every element is a pure function of (seed, tensor id, element index) through a SplitMix64 hash,
 * so the weights are the same whatever the thread count or chunking, and generation parallelises
 * with no shared generator state. The id of a tensor is fixed by its role, not by where it sits in a
 * fused array, so fusing layouts never changes the values.
 *
 * <p>Scales keep a random model numerically well behaved: linear weights are uniform with variance
 * 1/fan_in (activations keep unit RMS through every projection), norm gains are 1 &plusmn; 0.1 (not
 * near 0, which would flatten everything), q/k/v biases (where the architecture has them) are small
 * and centred on 0, and the LM head is wider (logit standard deviation about
 * {@value #LOGIT_STD}) so that greedy choices are clear winners rather than near ties.
 */
public final class DummyWeights {

    /** Target standard deviation of a logit given a unit-RMS final hidden state. */
    static final double LOGIT_STD = 4.0;
    private static final float NORM_NOISE = 0.1f;
    /** q/k/v biases: standard deviation 0.2, small beside the unit-RMS projections yet enough to move every score. */
    private static final float BIAS_HALF_WIDTH = 0.35f;
    private static final int CHUNK = 1 << 16;

    private static final int ID_EMBED = 0;
    private static final int ID_LM_HEAD = 1;
    private static final int ID_FINAL_NORM = 2;
    private static final int IDS_PER_LAYER = 16;
    private static final int ID_FIRST_LAYER = 16;

    private DummyWeights() {
    }

    public static ModelWeights generate(ModelConfig cfg, long seed) {
        return generate(cfg, seed, Runtime.getRuntime().availableProcessors());
    }

    /** Same result for every {@code threads}; the argument only sets how many threads fill the arrays. */
    public static ModelWeights generate(ModelConfig cfg, long seed, int threads) {
        ModelWeights w = ModelWeights.allocate(cfg, threads);
        List<Fill> fills = new ArrayList<>();
        for (Draw d : draws(cfg)) {
            float[] array = switch (d.tensor()) {
                case "embed_tokens" -> w.embed();
                case "lm_head" -> w.lmHead();
                case "norm" -> w.finalNorm();
                default -> d.layerTensor().array(w.layer(d.layer()));
            };
            fills.add(new Fill(array, d.offset(), d.length(), d.tensorId(), d.center(), d.halfWidth()));
        }
        run(fills, seed, threads);
        return w;
    }

    /**
     * How one tensor is drawn: element i (0-based inside the tensor) is
     * {@code center + halfWidth * unit(tensorKey(seed, tensorId), i)}, in float arithmetic (product
     * rounded, then sum rounded). A backend that keeps its weights elsewhere (the CUDA backend
     * generates them on the device) draws the same values from this list.
     *
     * @param tensor      "embed_tokens", "lm_head", "norm", or the layer tensor's HF suffix
     * @param layer       the layer, or -1 for the model-level tensors
     * @param layerTensor the layer tensor, or null
     * @param offset      first element inside the (possibly fused) array that holds the tensor
     */
    public record Draw(String tensor, int layer, LayerTensor layerTensor, int offset, int length, int tensorId, float center,
                       float halfWidth) {
    }

    /** Every tensor of the config's model, in a fixed order; the LM head only when not tied to the embedding. */
    public static List<Draw> draws(ModelConfig cfg) {
        List<Draw> out = new ArrayList<>();
        int hidden = cfg.hiddenSize();
        int table = ModelWeights.checkedSize("embed_tokens", (long) cfg.vocabSize() * hidden);
        float head = (float) (LOGIT_STD * Math.sqrt(3.0 / hidden));
        out.add(new Draw("embed_tokens", -1, null, 0, table, ID_EMBED, 0f,
                cfg.tieWordEmbeddings() ? head : (float) Math.sqrt(3.0)));
        if (!cfg.tieWordEmbeddings()) out.add(new Draw("lm_head", -1, null, 0, table, ID_LM_HEAD, 0f, head));
        out.add(new Draw("norm", -1, null, 0, hidden, ID_FINAL_NORM, 1f, NORM_NOISE));
        for (int i = 0; i < cfg.numLayers(); i++) {
            for (LayerTensor t : LayerTensor.values()) {
                if (!t.presentFor(cfg)) continue;
                boolean norm = t == LayerTensor.INPUT_NORM || t == LayerTensor.POST_ATTN_NORM;
                float halfWidth = norm ? NORM_NOISE : t.isBias() ? BIAS_HALF_WIDTH : (float) Math.sqrt(3.0 / t.cols(cfg));
                out.add(new Draw(t.hfSuffix(), i, t, t.offset(cfg), t.length(cfg), ID_FIRST_LAYER + i * IDS_PER_LAYER + t.ordinal(),
                        norm ? 1f : 0f, halfWidth));
            }
        }
        return out;
    }

    /** {@code length} elements of {@code array} from {@code offset}: center + halfWidth * U[-1, 1). */
    private record Fill(float[] array, int offset, int length, int tensorId, float center, float halfWidth) {
    }

    private static void run(List<Fill> fills, long seed, int threads) {
        // Chunks are listed in a fixed order; which thread fills which does not change a value.
        List<Runnable> chunks = new ArrayList<>();
        for (Fill f : fills) {
            for (int start = 0; start < f.length; start += CHUNK) {
                int from = start;
                chunks.add(() -> fillRange(f, seed, from, Math.min(f.length, from + CHUNK)));
            }
        }
        ParallelTasks.run(chunks, threads, "dummy-weights");
    }

    private static void fillRange(Fill f, long seed, int from, int to) {
        long base = tensorKey(seed, f.tensorId);
        float[] a = f.array;
        for (int i = from; i < to; i++) {
            a[f.offset + i] = f.center + f.halfWidth * unit(base, i);
        }
    }

    /** The per-tensor key every element's counter is offset from. */
    public static long tensorKey(long seed, int tensorId) {
        return splitMix(splitMix(seed) ^ (tensorId * 0xD1B54A32D192ED03L));
    }

    /** Uniform on [-1, 1) with 24 random bits: exact in float, so the value is the same on every machine. */
    static float unit(long tensorKey, long index) {
        long z = splitMix(tensorKey + index * 0x9E3779B97F4A7C15L);
        int bits = (int) (z >>> 40);
        return (bits - (1 << 23)) * (1f / (1 << 23));
    }

    /** The SplitMix64 finaliser: a bijective 64-bit mix, so distinct counters never collide. */
    static long splitMix(long x) {
        long z = x + 0x9E3779B97F4A7C15L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
