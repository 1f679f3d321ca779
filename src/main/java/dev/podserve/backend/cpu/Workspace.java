package dev.podserve.backend.cpu;

/**
 * Scratch memory owned by one worker thread, reused across calls so the hot loops never allocate.
 */
final class Workspace {

    /** [lanes]: one vector's lanes, spilled for the fixed-order lane sum. */
    final float[] lanes;
    /**
     * [tokenBlock][rowBlock][lanes]: the matmul's running lane accumulators for one block of tokens
     * by one block of weight rows, kept across K blocks so that K blocking leaves each lane's
     * summation order unchanged.
     */
    final float[] acc;
    /** [context]: attention scores of one query head, then their softmax numerators. */
    private float[] scores = new float[256];
    /** [context]: KV slot offset (slot * kvDim + kvHead * headDim) of each position of the current task. */
    private int[] kvOffsets = new int[256];
    /** [headDim][context]: one KV head's keys transposed, so attention scores vectorise across positions. */
    private float[] keysT = new float[1024];

    Workspace(int lanes, int accFloats) {
        this.lanes = new float[lanes];
        this.acc = new float[accFloats];
    }

    float[] scores(int n) {
        if (scores.length < n) scores = new float[Math.max(n, scores.length * 2)];
        return scores;
    }

    float[] keysT(int n) {
        if (keysT.length < n) keysT = new float[Math.max(n, keysT.length * 2)];
        return keysT;
    }

    int[] kvOffsets(int n) {
        if (kvOffsets.length < n) kvOffsets = new int[Math.max(n, kvOffsets.length * 2)];
        return kvOffsets;
    }
}
