package dev.podserve.backend.cpu;

import dev.podserve.model.ModelConfig;

/**
 * Rotary position embedding in HuggingFace Llama's "rotate_half" convention: within each head,
 * dimension i pairs with i + headDim/2 and turns by angle {@code position * theta^(-2i/headDim)}.
 *
 * <p>Tables are filled lazily (doubling) up to the highest position seen, at most
 * {@code max_position_embeddings}. Angles are computed in double with {@link StrictMath}, whose
 * results are the same on every JVM, so two backends always hold bit-identical tables.
 */
final class RopeTable {

    private final int half;
    private final int maxPositions;
    /** [half]: inverse frequency of rotary pair i. */
    private final double[] invFreq;
    /** [positions][half]: cos of the angle of pair i at a position. */
    private float[] cos = new float[0];
    /** [positions][half]: sin of the same angle. */
    private float[] sin = new float[0];
    private int positions;

    RopeTable(ModelConfig cfg) {
        this.half = cfg.headDim() / 2;
        this.maxPositions = cfg.maxPositionEmbeddings();
        this.invFreq = new double[half];
        for (int i = 0; i < half; i++) {
            invFreq[i] = 1.0 / StrictMath.pow(cfg.ropeTheta(), (2.0 * i) / cfg.headDim());
        }
    }

    /** Makes positions 0..count-1 available. */
    void ensure(int count) {
        if (count <= positions) return;
        if (count > maxPositions) {
            throw new IllegalArgumentException("position " + (count - 1) + " is beyond max_position_embeddings " + maxPositions);
        }
        int grown = (int) Math.min(maxPositions, Math.max(count, Math.max(64L, 2L * positions)));
        float[] c = new float[grown * half];
        float[] s = new float[grown * half];
        System.arraycopy(cos, 0, c, 0, positions * half);
        System.arraycopy(sin, 0, s, 0, positions * half);
        for (int p = positions; p < grown; p++) {
            for (int i = 0; i < half; i++) {
                double angle = p * invFreq[i];
                c[p * half + i] = (float) StrictMath.cos(angle);
                s[p * half + i] = (float) StrictMath.sin(angle);
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
