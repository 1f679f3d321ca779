package dev.podserve.backend.cuda;

/**
 * A step's logits, fp32 {@code [S][vocab]} on the device ({@link Activations#logits}), copied back into
 * host rows that are reused step after step: a fresh 64 x 128K-float array per step is 33 MB to
 * allocate, zero and collect. All rows at once for {@code forward()}, the rows asked for with
 * {@code forwardForSampling()}, and one row after the step when the engine finds it needs one it
 * did not ask for (a banned argmax, or a draw ps_draw handed back). Not thread-safe: the backend calls it under its own lock.
 */
final class LogitsReadback {

    private final DeviceCopies copies;
    private final long deviceLogits;
    private final int vocab;
    /** fp32 [maxSampled][vocab], each row allocated on first use. */
    private final float[][] rows;
    /** Rows of the last step that may still be fetched late; 0 from the moment a step starts. */
    private int fetchable;

    LogitsReadback(DeviceCopies copies, long deviceLogits, int maxSampled, int vocab) {
        this.copies = copies;
        this.deviceLogits = deviceLogits;
        this.vocab = vocab;
        this.rows = new float[maxSampled][];
    }

    /** A step is about to overwrite the device logits: no late fetch of the last one from now on. */
    void stepStarts() {
        fetchable = 0;
    }

    /** The first {@code count} rows, in as few transfers as the staging buffer allows. */
    float[][] all(int count) {
        for (int r = 0; r < count; r++) if (rows[r] == null) rows[r] = new float[vocab];
        float[][] out = java.util.Arrays.copyOf(rows, count);
        copies.readRows(deviceLogits, out, count, vocab);
        return out;
    }

    /** Row s, copied now. */
    float[] row(int s) {
        if (rows[s] == null) rows[s] = new float[vocab];
        copies.readFloats(deviceLogits + 4L * s * vocab, rows[s], 0, vocab);
        return rows[s];
    }

    /** The step just finished sampled {@code count} rows; any of them may be fetched late until the next step. */
    void fetchableUntilNextStep(int count) {
        fetchable = count;
    }

    /** Row s of the last step, after it (see {@code StepOutput.lateRow}). */
    float[] late(int s) {
        if (s < 0 || s >= fetchable) throw new IndexOutOfBoundsException("row " + s + " of " + fetchable + " sampled rows");
        return row(s);
    }
}
