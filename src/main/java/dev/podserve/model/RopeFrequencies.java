package dev.podserve.model;

/**
 * The inverse frequency of every rotary pair, for each rope type as transformers'
 * {@code ROPE_INIT_FUNCTIONS} define it. It lives beside the config rather than in one backend so
 * that the CPU backend, the reference forward pass and a GPU backend all rotate by the same angles.
 *
 * <p>Precision: transformers evaluates these formulas as float32 tensor arithmetic (Python scalars
 * rounded to float32 where they meet a tensor, {@code a / t} done as {@code reciprocal(t) * a}), so
 * each step here is that float operation, with the Python-side scalars (correction ranges,
 * wavelength bounds) in double as Python has them. Powers are taken in double with
 * {@link StrictMath} and rounded, which is what a correctly rounded {@code powf} returns. Measured
 * against transformers 5.17 / torch 2.11 on the CPU, the frequencies of every type agree bit for bit
 * or within one ulp (where torch's vectorised pow is not correctly rounded, as for dynamic NTK's
 * stretched base), and cos/sin within an ulp of the angle; a double evaluation rounded once is 1 to
 * 3 ulps away, and the angle error that makes grows with the position.
 *
 * <p>Dynamic NTK: transformers recomputes the base whenever a forward pass reaches past
 * {@code max_position_embeddings}, from that pass's highest position, and leaves keys already cached
 * as they were rotated, so its result depends on how the sequence was split into passes. A server
 * must not depend on chunking, so podserve applies the same formula per token: the token at
 * position p is rotated with the frequencies of a sequence of length
 * {@code max(p + 1, max_position_embeddings)}. Below max_position_embeddings that is plain RoPE,
 * exactly as in transformers; beyond it, it is what transformers computes when it feeds one token
 * per pass, and differs from a single transformers pass over a longer prompt (which rotates every
 * prompt token with the base of the full prompt length).
 */
public final class RopeFrequencies {

    private final RopeScaling scaling;
    private final double theta;
    private final int dim;
    private final int maxPositionEmbeddings;
    /** Frequencies of every position below {@link #dynamicFrom}. */
    private final float[] fixed;
    /** First position whose frequencies depend on the position itself (dynamic NTK), else MAX_VALUE. */
    private final int dynamicFrom;

    public RopeFrequencies(ModelConfig cfg) {
        this.scaling = cfg.ropeScaling();
        this.theta = cfg.ropeTheta();
        this.dim = cfg.headDim();
        this.maxPositionEmbeddings = cfg.maxPositionEmbeddings();
        this.dynamicFrom = scaling.type() == RopeScaling.Type.DYNAMIC ? maxPositionEmbeddings : Integer.MAX_VALUE;
        this.fixed = compute(maxPositionEmbeddings);
    }

    /** Rotary pairs per head: head_dim / 2. */
    public int pairs() {
        return dim / 2;
    }

    /** Factor on cos and sin, rounded to float32 as transformers multiplies its float32 cos/sin by it. */
    public float attentionFactor() {
        return (float) scaling.attentionFactor();
    }

    /** The inverse frequencies that rotate the token at {@code position}; callers must not modify the array. */
    public float[] at(int position) {
        return position < dynamicFrom ? fixed : compute(position + 1);
    }

    /** Inverse frequencies for a sequence of {@code seqLen} tokens (only dynamic NTK reads it). */
    float[] compute(int seqLen) {
        return switch (scaling.type()) {
            case DEFAULT -> plain((float) theta);
            case LINEAR -> divided(plain((float) theta), (float) scaling.factor());
            case DYNAMIC -> plain(dynamicBase(seqLen));
            case LLAMA3 -> llama3(plain((float) theta));
            case YARN -> yarn();
        };
    }

    /** {@code base^(2i/dim)}, the exponent a float quotient as {@code arange(0, dim, 2).float() / dim} is. */
    private float power(float base, int i) {
        float exponent = (float) (2 * i) / (float) dim;
        return (float) StrictMath.pow(base, exponent);
    }

    /** {@code 1 / base^(2i/dim)}. */
    private float[] plain(float base) {
        float[] inv = new float[dim / 2];
        for (int i = 0; i < inv.length; i++) inv[i] = 1f / power(base, i);
        return inv;
    }

    private static float[] divided(float[] inv, float factor) {
        for (int i = 0; i < inv.length; i++) inv[i] /= factor;
        return inv;
    }

    /**
     * The NTK-stretched base {@code theta * (factor * len / max - (factor - 1))^(dim / (dim - 2))},
     * equal to theta until the sequence outgrows max_position_embeddings. Past it transformers
     * holds the length as a tensor, so the expression is float arithmetic, but for the exponent,
     * which torch's tensor-to-scalar power keeps in double.
     */
    private float dynamicBase(int seqLen) {
        if (seqLen <= maxPositionEmbeddings) return (float) theta;
        float f = (float) scaling.factor();
        float stretch = (float) seqLen * f / (float) maxPositionEmbeddings - (float) (scaling.factor() - 1);
        float grown = (float) StrictMath.pow(stretch, (double) dim / (dim - 2));
        return (float) theta * grown;
    }

    /**
     * Llama 3.1: pairs whose wavelength is short next to the original context keep their frequency,
     * long ones are divided by the factor, and the band between blends the two linearly in
     * {@code original / wavelength}.
     */
    private float[] llama3(float[] inv) {
        float f = (float) scaling.factor();
        float low = (float) scaling.lowFreqFactor();
        float band = (float) (scaling.highFreqFactor() - scaling.lowFreqFactor());
        double original = scaling.originalMaxPositionEmbeddings();
        float lowFreqWavelen = (float) (original / scaling.lowFreqFactor());
        float highFreqWavelen = (float) (original / scaling.highFreqFactor());
        for (int i = 0; i < inv.length; i++) {
            float wavelen = (1f / inv[i]) * (float) (2 * Math.PI);
            if (wavelen < highFreqWavelen) continue;
            if (wavelen > lowFreqWavelen) {
                inv[i] = inv[i] / f;
            } else {
                float smooth = ((1f / wavelen) * (float) original - low) / band;
                inv[i] = (1f - smooth) * inv[i] / f + smooth * inv[i];
            }
        }
        return inv;
    }

    /**
     * YaRN: pairs that turn more than beta_fast times over the original context keep their
     * frequency (extrapolation), pairs turning fewer than beta_slow times are divided by the factor
     * (interpolation), with a linear ramp over the pair index in between.
     */
    private float[] yarn() {
        float[] inv = new float[dim / 2];
        float f = (float) scaling.factor();
        double low = correctionDim(scaling.betaFast());
        double high = correctionDim(scaling.betaSlow());
        if (scaling.truncate()) {
            low = Math.floor(low);
            high = Math.ceil(high);
        }
        low = Math.max(low, 0);
        high = Math.min(high, dim - 1);
        if (low == high) high += 0.001;
        float lowF = (float) low;
        float span = (float) (high - low);
        float theta32 = (float) theta;
        for (int i = 0; i < inv.length; i++) {
            float posFreq = power(theta32, i);
            float extrapolation = 1f / posFreq;
            float interpolation = 1f / (f * posFreq);
            float ramp = Math.min(1f, Math.max(0f, ((float) i - lowF) / span));
            float keep = 1f - ramp;
            inv[i] = interpolation * (1f - keep) + extrapolation * keep;
        }
        return inv;
    }

    /** The pair index that completes {@code rotations} turns over the original context. */
    private double correctionDim(double rotations) {
        double original = scaling.originalMaxPositionEmbeddings();
        return dim * StrictMath.log(original / (rotations * 2 * Math.PI)) / (2 * StrictMath.log(theta));
    }
}
