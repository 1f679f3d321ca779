package dev.podserve.model;

/**
 * The fp32 weights of one decoder layer, row-major, with the projections that read the same input
 * fused into one matrix so a backend runs one matmul instead of three (q/k/v) or two (gate/up).
 *
 * <p>Every matrix is stored as {@code [outFeatures][inFeatures]} (HuggingFace's {@code nn.Linear}
 * layout), so output row n is the contiguous slice {@code n*in .. (n+1)*in-1}. A loader fills a
 * checkpoint tensor by copying it to {@link LayerTensor#offset} of {@link LayerTensor#array}.
 */
public final class LayerWeights {

    private final int hidden;
    private final int qDim;
    private final int kvDim;
    private final int inter;

    /** [hidden]: RMSNorm gain before attention. */
    private final float[] inputNorm;
    /** [qDim + 2*kvDim][hidden]: rows 0..qDim-1 are wq, then kvDim rows of wk, then kvDim rows of wv. */
    private final float[] qkv;
    /** [hidden][qDim]: attention output projection. */
    private final float[] wo;
    /** [hidden]: RMSNorm gain before the MLP. */
    private final float[] postAttnNorm;
    /** [2*inter][hidden]: rows 0..inter-1 are the gate projection, rows inter..2*inter-1 the up projection. */
    private final float[] gateUp;
    /** [hidden][inter]: MLP down projection. */
    private final float[] down;
    /** [qDim + 2*kvDim]: q bias, then k bias, then v bias, added to the fused projection's output; null when the architecture has none. */
    private final float[] qkvBias;

    /** The weights of a layer without q/k/v biases. */
    public LayerWeights(ModelConfig cfg, float[] inputNorm, float[] qkv, float[] wo, float[] postAttnNorm,
                        float[] gateUp, float[] down) {
        this(cfg, inputNorm, qkv, wo, postAttnNorm, gateUp, down, null);
    }

    /** {@code qkvBias} must be given exactly when {@link ModelConfig#qkvBias()} is set. */
    public LayerWeights(ModelConfig cfg, float[] inputNorm, float[] qkv, float[] wo, float[] postAttnNorm,
                        float[] gateUp, float[] down, float[] qkvBias) {
        this.hidden = cfg.hiddenSize();
        this.qDim = cfg.qDim();
        this.kvDim = cfg.kvDim();
        this.inter = cfg.intermediateSize();
        this.inputNorm = checked("input_layernorm", inputNorm, hidden);
        this.qkv = checked("q/k/v_proj", qkv, (long) (qDim + 2 * kvDim) * hidden);
        this.wo = checked("o_proj", wo, (long) hidden * qDim);
        this.postAttnNorm = checked("post_attention_layernorm", postAttnNorm, hidden);
        this.gateUp = checked("gate/up_proj", gateUp, 2L * inter * hidden);
        this.down = checked("down_proj", down, (long) hidden * inter);
        if (cfg.qkvBias()) {
            this.qkvBias = checked("q/k/v_proj.bias", qkvBias, qDim + 2L * kvDim);
        } else if (qkvBias != null) {
            throw new IllegalArgumentException(cfg.architecture() + " has no q/k/v biases, but some were given");
        } else {
            this.qkvBias = null;
        }
    }

    /** Zero-filled weights of the right shapes, ready for a loader or generator to fill. */
    public static LayerWeights allocate(ModelConfig cfg) {
        int h = cfg.hiddenSize();
        return new LayerWeights(cfg,
                new float[h],
                new float[ModelWeights.checkedSize("q/k/v_proj", (long) (cfg.qDim() + 2 * cfg.kvDim()) * h)],
                new float[ModelWeights.checkedSize("o_proj", (long) h * cfg.qDim())],
                new float[h],
                new float[ModelWeights.checkedSize("gate/up_proj", 2L * cfg.intermediateSize() * h)],
                new float[ModelWeights.checkedSize("down_proj", (long) h * cfg.intermediateSize())],
                cfg.qkvBias() ? new float[cfg.qDim() + 2 * cfg.kvDim()] : null);
    }

    private static float[] checked(String name, float[] a, long expected) {
        if (a == null || a.length != expected) {
            throw new IllegalArgumentException(name + ": expected " + expected + " floats, got "
                    + (a == null ? "null" : a.length));
        }
        return a;
    }

    public float[] inputNorm() {
        return inputNorm;
    }

    public float[] qkv() {
        return qkv;
    }

    public float[] wo() {
        return wo;
    }

    public float[] postAttnNorm() {
        return postAttnNorm;
    }

    public float[] gateUp() {
        return gateUp;
    }

    public float[] down() {
        return down;
    }

    /** The fused q/k/v bias, or null when the layer has none. */
    public float[] qkvBias() {
        return qkvBias;
    }

    /** Floats held by this layer's arrays. */
    public long floats() {
        return (long) inputNorm.length + qkv.length + wo.length + postAttnNorm.length + gateUp.length + down.length
                + (qkvBias == null ? 0 : qkvBias.length);
    }

    /** Output rows of the fused q/k/v matrix. */
    public int qkvRows() {
        return qDim + 2 * kvDim;
    }

    int hidden() {
        return hidden;
    }

    int qDim() {
        return qDim;
    }

    int kvDim() {
        return kvDim;
    }

    int inter() {
        return inter;
    }
}
