package dev.podserve.backend.cpu;

/**
 * Plain-Java kernels, used when the JVM runs without {@code --add-modules jdk.incubator.vector}.
 * Every dot product is one sequential fused multiply-add chain over k, so results are the same
 * whatever the batch or thread split; four weight rows share each activation load to save memory
 * traffic.
 */
final class ScalarKernels implements CpuKernels {

    @Override
    public String name() {
        return "scalar";
    }

    @Override
    public Workspace newWorkspace() {
        return new Workspace(1, 0);
    }

    @Override
    public void matmulRows(float[] x, int T, int K, float[] w, int N, int n0, int n1, float[] y, boolean accumulate,
                           Workspace ws) {
        for (int t = 0; t < T; t++) {
            int xo = t * K;
            int yo = t * N;
            int n = n0;
            for (; n + 4 <= n1; n += 4) {
                int w0 = n * K;
                int w1 = w0 + K;
                int w2 = w1 + K;
                int w3 = w2 + K;
                float s0 = 0f;
                float s1 = 0f;
                float s2 = 0f;
                float s3 = 0f;
                for (int k = 0; k < K; k++) {
                    float xv = x[xo + k];
                    s0 = Math.fma(w[w0 + k], xv, s0);
                    s1 = Math.fma(w[w1 + k], xv, s1);
                    s2 = Math.fma(w[w2 + k], xv, s2);
                    s3 = Math.fma(w[w3 + k], xv, s3);
                }
                store(y, yo + n, s0, accumulate);
                store(y, yo + n + 1, s1, accumulate);
                store(y, yo + n + 2, s2, accumulate);
                store(y, yo + n + 3, s3, accumulate);
            }
            for (; n < n1; n++) {
                int wo = n * K;
                float s = 0f;
                for (int k = 0; k < K; k++) s = Math.fma(w[wo + k], x[xo + k], s);
                store(y, yo + n, s, accumulate);
            }
        }
    }

    private static void store(float[] y, int i, float s, boolean accumulate) {
        y[i] = accumulate ? y[i] + s : s;
    }

    @Override
    public void scores(float[] q, int qo, float[] kt, int kto, int stride, int n, int headDim, float scale, float[] out) {
        for (int j = 0; j < n; j++) {
            float s = 0f;
            for (int d = 0; d < headDim; d++) s = Math.fma(q[qo + d], kt[kto + d * stride + j], s);
            out[j] = s * scale;
        }
    }

    @Override
    public void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i++) y[yo + i] = Math.fma(alpha, x[xo + i], y[yo + i]);
    }

    @Override
    public void scale(float[] y, int yo, int n, float s) {
        for (int i = 0; i < n; i++) y[yo + i] *= s;
    }

    @Override
    public float expShiftedSum(float[] s, int n, float max, Workspace ws) {
        float sum = 0f;
        for (int j = 0; j < n; j++) {
            float e = FastExp.exp(s[j] - max);
            s[j] = e;
            sum += e;
        }
        return sum;
    }

    @Override
    public void siluMul(float[] gu, int go, int inter, float[] out, int oo) {
        for (int i = 0; i < inter; i++) out[oo + i] = FastExp.silu(gu[go + i]) * gu[go + inter + i];
    }
}
