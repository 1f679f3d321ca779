package dev.podserve.backend.cpu;

import dev.podserve.model.ModelConfig;
import dev.podserve.model.RopeFrequencies;

/**
 * Rotary position embedding in HuggingFace Llama's "rotate_half" convention: within each head,
 * dimension i pairs with i + headDim/2 and turns by {@code position * inv_freq[i]}, the frequencies
 * of the config's rope type ({@link RopeFrequencies}); cos and sin are scaled by the rope type's
 * attention factor (YaRN's mscale, 1 otherwise).
 *
 * <p>Each entry is formed as transformers forms it in float32: the angle is the float product of the
 * float frequency and the position (exact in double, then rounded once), its cos and sin are taken
 * with {@link StrictMath} and rounded to float, then multiplied by the float attention factor. So the
 * table is the same on every JVM, and within an ulp of transformers' for any position.
 *
 * <p>Tables are filled lazily (doubling) up to the highest position seen, at most the config's
 * {@link ModelConfig#maxContextLength()}.
 */
final class RopeTable {

    private final int half;
    private final int maxPositions;
    private final RopeFrequencies freqs;
    private final float attentionFactor;
    /** [positions][half]: attention factor times the cos of the angle of pair i at a position. */
    private float[] cos = new float[0];
    /** [positions][half]: the same for sin. */
    private float[] sin = new float[0];
    private int positions;

    RopeTable(ModelConfig cfg) {
        this.half = cfg.headDim() / 2;
        this.maxPositions = cfg.maxContextLength();
        this.freqs = new RopeFrequencies(cfg);
        this.attentionFactor = freqs.attentionFactor();
    }

    /** Makes positions 0..count-1 available. */
    void ensure(int count) {
        if (count <= positions) return;
        if (count > maxPositions) {
            throw new IllegalArgumentException("position " + (count - 1) + " is beyond the model's context of " + maxPositions);
        }
        int grown = (int) Math.min(maxPositions, Math.max(count, Math.max(64L, 2L * positions)));
        float[] c = new float[Math.multiplyExact(grown, half)];
        float[] s = new float[c.length];
        System.arraycopy(cos, 0, c, 0, positions * half);
        System.arraycopy(sin, 0, s, 0, positions * half);
        for (int p = positions; p < grown; p++) {
            float[] inv = freqs.at(p);
            for (int i = 0; i < half; i++) {
                float angle = (float) ((double) inv[i] * p);
                c[p * half + i] = (float) StrictMath.cos(angle) * attentionFactor;
                s[p * half + i] = (float) StrictMath.sin(angle) * attentionFactor;
            }
        }
        cos = c;
        sin = s;
        positions = grown;
    }

    /** Rotates the head of {@code 2*half} floats at {@code v[off..]} to {@code position} (ensured before). */
    void rotate(float[] v, int off, int position) {
        int base = position * half;
        for (int i = 0; i < half; i++) {
            float x1 = v[off + i];
            float x2 = v[off + half + i];
            float c = cos[base + i];
            float s = sin[base + i];
            v[off + i] = x1 * c - x2 * s;
            v[off + half + i] = x2 * c + x1 * s;
        }
    }
}
