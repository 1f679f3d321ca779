package dev.podserve.backend.cpu;

/**
 * The linear layer written the obvious way, to check and to measure {@link CpuMatmul} against.
 * Layouts as there: x {@code [T][K]}, w {@code [N][K]}, y {@code [T][N]}, row-major.
 */
public final class ReferenceMatmul {

    private ReferenceMatmul() {
    }

    /** Each dot product accumulated in double: the accuracy reference. */
    public static float[] exact(float[] x, int T, int K, float[] w, int N) {
        float[] y = new float[T * N];
        for (int t = 0; t < T; t++) {
            for (int n = 0; n < N; n++) {
                double s = 0;
                for (int k = 0; k < K; k++) s += (double) x[t * K + k] * w[n * K + k];
                y[t * N + n] = (float) s;
            }
        }
        return y;
    }

    /** The plain triple loop in float, one dot product at a time: the speed baseline. */
    public static void naive(float[] x, int T, int K, float[] w, int N, float[] y) {
        for (int t = 0; t < T; t++) {
            for (int n = 0; n < N; n++) {
                float s = 0f;
                for (int k = 0; k < K; k++) s += x[t * K + k] * w[n * K + k];
                y[t * N + n] = s;
            }
        }
    }
}
