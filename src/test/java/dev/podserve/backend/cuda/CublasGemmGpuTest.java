package dev.podserve.backend.cuda;

import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The row-major GEMM mapping, with and without bias, bf16 and fp32 outputs, strided rows. */
@Tag("gpu")
class CublasGemmGpuTest {

    private DeviceArena arena;
    private DeviceCopies copies;
    private CublasGemm gemm;

    @BeforeEach
    void setUp() {
        Gpu.require();
        arena = new DeviceArena(256L << 20);
        copies = new DeviceCopies(Gpu.ctx());
        gemm = new CublasGemm(Gpu.ctx());
    }

    @AfterEach
    void tearDown() {
        if (gemm != null) gemm.close();
        if (copies != null) copies.close();
        if (arena != null) arena.close();
    }

    @ParameterizedTest(name = "T={0} N={1} K={2} bias={3} fp32={4}")
    @CsvSource({"1, 583, 64, false, true", "17, 1000, 333, true, false", "127, 768, 256, false, false", "5, 4096, 4096, true, false"})
    void matchesTheReference(int T, int N, int K, boolean bias, boolean fp32) {
        Random rnd = new Random(T * 1000L + N + K);
        int xStride = K + 8;
        int yStride = N + 3;
        float[] x = Gpu.bf16Random(rnd, T * xStride, 1f);
        float[] w = Gpu.bf16Random(rnd, N * K, (float) Math.sqrt(3.0 / K));
        float[] b = Gpu.bf16Random(rnd, N, 0.5f);
        long dx = up("x", x);
        long dw = up("w", w);
        int esz = fp32 ? 4 : 2;
        long dy = arena.carve("y", (long) esz * T * yStride).address();
        copies.fill(dy, (byte) 0xFF, (long) esz * T * yStride);
        if (bias) {
            float[] ones = new float[T];
            java.util.Arrays.fill(ones, 1f);
            gemm.broadcastRows(T, N, up("b", b), up("ones", ones), dy, yStride);
        }
        gemm.rowMajor(T, N, K, dx, xStride, dw, dy, yStride, fp32, bias);
        float[] got = new float[T * yStride];
        if (fp32) {
            copies.readFloats(dy, got, 0, T * yStride);
        } else {
            got = copies.readBf16(dy, T * yStride);
        }
        float[] exp = new float[T * N];
        float[] act = new float[T * N];
        for (int t = 0; t < T; t++) {
            for (int n = 0; n < N; n++) {
                double acc = bias ? b[n] : 0;
                for (int k = 0; k < K; k++) acc += (double) x[t * xStride + k] * w[n * K + k];
                exp[t * N + n] = (float) acc;
                act[t * N + n] = got[t * yStride + n];
            }
        }
        Gpu.assertClose("y", exp, act, 2e-3f);
    }

    private long up(String name, float[] data) {
        long a = arena.carve(name, 2L * data.length).address();
        copies.bf16(a, data);
        return a;
    }
}
