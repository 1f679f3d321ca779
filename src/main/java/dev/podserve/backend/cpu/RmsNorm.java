package dev.podserve.backend.cpu;

/**
 * Llama's RMSNorm, {@code out = gain * (x / sqrt(mean(x^2) + eps))}, per token. The mean of squares
 * is summed in double in index order: exact enough to match a double reference closely, and
 * deterministic because the order never changes.
 */
final class RmsNorm {

    private RmsNorm() {
    }

    /** x and out {@code [T][hidden]}, gain {@code [hidden]}; x and out may not overlap. */
    static void apply(float[] x, float[] gain, float eps, int T, int hidden, float[] out) {
        for (int t = 0; t < T; t++) row(x, t * hidden, gain, eps, hidden, out, t * hidden);
    }

    static void row(float[] x, int xo, float[] gain, float eps, int hidden, float[] out, int oo) {
        double ss = 0;
        for (int i = 0; i < hidden; i++) {
            double v = x[xo + i];
            ss += v * v;
        }
        float inv = (float) (1.0 / Math.sqrt(ss / hidden + eps));
        for (int i = 0; i < hidden; i++) out[oo + i] = gain[i] * (x[xo + i] * inv);
    }
}
