package dev.podserve.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

class MatmulKernelTest {

    /** Awkward sizes: below, at and around one vector, around the K block (256), and odd everywhere. */
    private static final int[] KS = {1, 7, 16, 255, 257, 600};
    private static final int[] TS = {1, 3, 17, 40};
    private static final int[] NS = {1, 5, 67};

    private static List<CpuKernels> kernels() {
        return List.of(new VectorKernels(), new ScalarKernels());
    }

    private static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = rnd.nextFloat() * 2 - 1;
        return a;
    }

    @Test
    void selectorPicksVectorKernelsWhenTheModuleIsPresent() {
        assertTrue(KernelSelector.vectorModulePresent(), "surefire runs with --add-modules jdk.incubator.vector");
        assertThat(KernelSelector.best()).isInstanceOf(VectorKernels.class);
    }

    @Test
    void matchesTheDoubleReferenceAtAwkwardShapes() {
        Random rnd = new Random(11);
        for (CpuKernels k : kernels()) {
            Workspace ws = k.newWorkspace();
            for (int K : KS) {
                for (int T : TS) {
                    for (int N : NS) {
                        float[] x = random(rnd, T * K);
                        float[] w = random(rnd, N * K);
                        float[] y = new float[T * N];
                        k.matmulRows(x, T, K, w, N, 0, N, y, false, ws);
                        float[] ref = ReferenceMatmul.exact(x, T, K, w, N);
                        for (int t = 0; t < T; t++) {
                            for (int n = 0; n < N; n++) {
                                double mag = 0;
                                for (int i = 0; i < K; i++) mag += Math.abs((double) x[t * K + i] * w[n * K + i]);
                                double err = Math.abs(y[t * N + n] - ref[t * N + n]);
                                String where = k.name() + " K=" + K + " T=" + T + " N=" + N + " err " + err + " vs magnitude " + mag;
                                assertTrue(err <= 1e-6 * mag + 1e-30, where);
                            }
                        }
                    }
                }
            }
        }
    }

    @Test
    void eachOutputIsIndependentOfTheTokensAndRowsComputedWithIt() {
        Random rnd = new Random(12);
        for (CpuKernels k : kernels()) {
            Workspace ws = k.newWorkspace();
            for (int K : KS) {
                int T = 37;
                int N = 70;
                float[] x = random(rnd, T * K);
                float[] w = random(rnd, N * K);
                float[] all = new float[T * N];
                k.matmulRows(x, T, K, w, N, 0, N, all, false, ws);
                for (int t = 0; t < T; t++) {
                    // Alone: one token, rows split at an odd point.
                    float[] xt = Arrays.copyOfRange(x, t * K, (t + 1) * K);
                    float[] yt = new float[N];
                    int split = 1 + rnd.nextInt(N - 1);
                    k.matmulRows(xt, 1, K, w, N, 0, split, yt, false, ws);
                    k.matmulRows(xt, 1, K, w, N, split, N, yt, false, ws);
                    assertArrayEquals(Arrays.copyOfRange(all, t * N, (t + 1) * N), yt, 0f, k.name() + " K=" + K + " t=" + t);
                }
            }
        }
    }

    @Test
    void accumulateAddsTheFinishedDotProduct() {
        Random rnd = new Random(13);
        for (CpuKernels k : kernels()) {
            Workspace ws = k.newWorkspace();
            int T = 5;
            int K = 257;
            int N = 9;
            float[] x = random(rnd, T * K);
            float[] w = random(rnd, N * K);
            float[] base = random(rnd, T * N);
            float[] product = new float[T * N];
            k.matmulRows(x, T, K, w, N, 0, N, product, false, ws);
            float[] y = base.clone();
            k.matmulRows(x, T, K, w, N, 0, N, y, true, ws);
            for (int i = 0; i < y.length; i++) assertThat(y[i]).isEqualTo(base[i] + product[i]);
        }
    }

    @Test
    void parallelMatmulIsBitwiseTheSameOnAnyThreadCount() {
        Random rnd = new Random(14);
        int T = 19;
        int K = 300;
        int N = 131;
        float[] x = random(rnd, T * K);
        float[] w = random(rnd, N * K);
        float[] expected = null;
        for (int threads = 1; threads <= 3; threads++) {
            CpuKernels k = new VectorKernels();
            try (WorkerPool pool = new WorkerPool(threads, k)) {
                CpuMatmul mm = new CpuMatmul(pool, k, 0, false);
                float[] y = new float[T * N];
                mm.multiply(x, T, K, w, N, y);
                if (expected == null) expected = y;
                else assertArrayEquals(expected, y, 0f, threads + " threads");
            }
        }
        float[] ref = ReferenceMatmul.exact(x, T, K, w, N);
        for (int i = 0; i < ref.length; i++) assertThat(expected[i]).isCloseTo(ref[i], offset(1e-4f));
    }

    @Test
    void publicMatmulAndItsScalarFallbackAgreeWithTheNaiveLoop() {
        Random rnd = new Random(15);
        int T = 3;
        int K = 129;
        int N = 45;
        float[] x = random(rnd, T * K);
        float[] w = random(rnd, N * K);
        float[] naive = new float[T * N];
        ReferenceMatmul.naive(x, T, K, w, N, naive);
        try (CpuMatmul vec = new CpuMatmul(2); CpuMatmul scalar = CpuMatmul.scalarFallback(2)) {
            assertThat(vec.describe()).startsWith("vector");
            assertThat(scalar.describe()).isEqualTo("scalar, 2 threads");
            for (CpuMatmul mm : List.of(vec, scalar)) {
                float[] y = new float[T * N];
                mm.multiply(x, T, K, w, N, y);
                for (int i = 0; i < y.length; i++) assertThat(y[i]).isCloseTo(naive[i], offset(1e-4f));
            }
        }
    }
}
