package dev.podserve.backend.cpu;

import dev.podserve.model.ModelConfig;

/**
 * The per-step activation buffers of the forward pass, sized for the largest step seen so far and
 * reused, so steady-state steps allocate nothing but their returned logits. T is the step's
 * number of query rows; every buffer is row-major with one row per query row.
 */
final class Activations {

    private final int hidden;
    private final int qkvRows;
    private final int qDim;
    private final int inter;
    private final int vocab;
    private int capacity;

    /** [T][hidden]: the residual stream. */
    float[] hiddenState = new float[0];
    /** [T][hidden]: RMSNorm output, the input of the next projection. */
    float[] normed = new float[0];
    /** [T][qDim + 2*kvDim]: fused projection output, per row q heads | k heads | v heads. */
    float[] qkv = new float[0];
    /** [T][qDim]: attention output, query heads concatenated. */
    float[] attn = new float[0];
    /** [T][2*inter]: fused MLP projection output, per row gate | up. */
    float[] gateUp = new float[0];
    /** [T][inter]: silu(gate) * up. */
    float[] act = new float[0];
    /** [T]: index of the request each query row belongs to. */
    int[] rowRequest = new int[0];
    /** [S][vocab]: logits of the sampled rows, before they are copied out one array per request. */
    private float[] logits = new float[0];

    Activations(ModelConfig cfg) {
        this.hidden = cfg.hiddenSize();
        this.qkvRows = cfg.qDim() + 2 * cfg.kvDim();
        this.qDim = cfg.qDim();
        this.inter = cfg.intermediateSize();
        this.vocab = cfg.vocabSize();
    }

    float[] logits(int sampled) {
        int n = Math.multiplyExact(sampled, vocab);
        if (logits.length < n) logits = new float[n];
        return logits;
    }

    void ensure(int T) {
        if (T <= capacity) return;
        int c = Math.max(T, capacity + capacity / 2);
        hiddenState = new float[Math.multiplyExact(c, hidden)];
        normed = new float[Math.multiplyExact(c, hidden)];
        qkv = new float[Math.multiplyExact(c, qkvRows)];
        attn = new float[Math.multiplyExact(c, qDim)];
        gateUp = new float[Math.multiplyExact(c, 2 * inter)];
        act = new float[Math.multiplyExact(c, inter)];
        rowRequest = new int[c];
        capacity = c;
    }
}
