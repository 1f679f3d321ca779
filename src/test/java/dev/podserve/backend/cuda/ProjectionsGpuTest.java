package dev.podserve.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The step's projections through {@link Projections}, skinny kernel on (rows up to 16) and off
 * (cuBLAS alone, so also the row-major mapping of {@link CublasGemm}), against an fp64 reference of
 * the same bf16 operands: plain, with the bias written
 * first, fp32 out, and gate_up with its SiLU. Row counts on both sides of the kernel's 8-row tile
 * and of its 16-row limit, k not a multiple of its 32-element chunk or not of 8 (the cuBLAS
 * fallback), strided rows whose tails must stay untouched.
 */
@Tag("gpu")
class ProjectionsGpuTest {

    private DeviceArena arena;
    private DeviceCopies copies;
    private CublasGemm gemm;
    private LayerKernels layers;

    @BeforeEach
    void setUp() {
        Gpu.require();
        arena = new DeviceArena(512L << 20);
        copies = new DeviceCopies(Gpu.ctx());
        gemm = new CublasGemm(Gpu.ctx());
        layers = new LayerKernels(Gpu.ctx(), Gpu.module());
    }

    @AfterEach
    void tearDown() {
        if (layers != null) layers.close();
        if (gemm != null) gemm.close();
        if (copies != null) copies.close();
        if (arena != null) arena.close();
    }

    @ParameterizedTest(name = "T={0} N={1} K={2} bias={3} fp32={4} skinnyRows={5}")
    @CsvSource({"1, 583, 64, false, true, 16", "3, 1000, 200, true, false, 16", "8, 4096, 4096, false, false, 16",
                "9, 6144, 4096, true, false, 16", "16, 4096, 1032, false, false, 16", "16, 1000, 4096, false, true, 16",
                "17, 600, 256, false, false, 16", "5, 300, 100, false, false, 16", "5, 300, 256, true, false, 4",
                "4, 777, 512, false, false, 0", "1, 583, 64, false, true, 0", "17, 1000, 333, true, false, 0",
                "127, 768, 256, false, false, 0", "5, 4096, 4096, true, false, 0"})
    void rowMajorMatchesTheReference(int T, int N, int K, boolean bias, boolean fp32, int skinnyRows) {
        Projections proj = new Projections(gemm, layers, skinnyRows);
        Random rnd = new Random(T * 1000L + N + K + skinnyRows);
        int xStride = K + 8;
        int yStride = N + 5;
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
            Arrays.fill(ones, 1f);
            proj.broadcastRows(T, N, up("b", b), up("ones", ones), dy, yStride);
        }
        proj.rowMajor(T, N, K, dx, xStride, dw, dy, yStride, fp32, bias);
        float[] got = read(dy, T * yStride, fp32);
        float[] exp = new float[T * yStride];
        Arrays.fill(exp, Float.NaN);  // the tail of every row stays poisoned
        for (int t = 0; t < T; t++) {
            for (int n = 0; n < N; n++) {
                double acc = bias ? b[n] : 0;
                for (int k = 0; k < K; k++) acc += (double) x[t * xStride + k] * w[n * K + k];
                exp[t * yStride + n] = (float) acc;
            }
        }
        Gpu.assertClose("y", exp, got, 2e-3f);
    }

    @ParameterizedTest(name = "T={0} inter={1} hidden={2} skinnyRows={3}")
    @CsvSource({"1, 1000, 512, 16", "7, 1432, 4096, 16", "12, 64, 96, 16", "16, 333, 256, 16", "16, 333, 256, 0",
                "2, 100, 60, 16"})
    void gateUpSiluMatchesTheReference(int T, int inter, int hidden, int skinnyRows) {
        Projections proj = new Projections(gemm, layers, skinnyRows);
        Random rnd = new Random(T * 7919L + inter + hidden + skinnyRows);
        int xStride = hidden;
        int outStride = inter + 3;
        float[] x = Gpu.bf16Random(rnd, T * xStride, 1f);
        float[] w = Gpu.bf16Random(rnd, 2 * inter * hidden, (float) Math.sqrt(12.0 / hidden));
        long scratch = arena.carve("gateUp", 2L * T * 2 * inter).address();
        long out = arena.carve("out", 2L * T * outStride).address();
        copies.fill(out, (byte) 0xFF, 2L * T * outStride);
        proj.gateUpSilu(T, inter, hidden, up("x", x), xStride, up("w", w), scratch, out, outStride);
        float[] got = read(out, T * outStride, false);
        float[] exp = new float[T * outStride];
        Arrays.fill(exp, Float.NaN);
        for (int t = 0; t < T; t++) {
            for (int i = 0; i < inter; i++) {
                double g = 0;
                double u = 0;
                for (int k = 0; k < hidden; k++) {
                    g += (double) x[t * xStride + k] * w[i * hidden + k];
                    u += (double) x[t * xStride + k] * w[(inter + i) * hidden + k];
                }
                // Both paths round the two products to bf16 before the activation.
                double gb = Bf16.round((float) g);
                double ub = Bf16.round((float) u);
                exp[t * outStride + i] = (float) (gb / (1 + Math.exp(-gb)) * ub);
            }
        }
        Gpu.assertClose("silu(gate) * up", exp, got, 2e-3f);
    }

    @ParameterizedTest(name = "T={0} K={1} xStride={2} skinnyRows={3}")
    @CsvSource({"1, 64, 64, 16, true", "16, 64, 64, 16, true", "17, 64, 64, 16, false", "4, 64, 64, 3, false",
                "4, 100, 104, 16, false", "4, 64, 68, 16, false", "4, 64, 64, 0, false"})
    void theSkinnyKernelTakesOnlyWhatItCan(int T, int K, int xStride, int skinnyRows, boolean expected) {
        Projections proj = new Projections(gemm, layers, skinnyRows);
        assertTrue(proj.skinny(T, 64, K, 256, xStride, 512) == expected, "skinny(" + T + ", " + K + ", " + xStride + ")");
        assertTrue(!proj.skinny(4, 64, 64, 256 + 2, 64, 512), "an x not 16-byte aligned goes to cuBLAS");
        boolean rowsAllow = T >= 1 && T <= skinnyRows;
        assertTrue(proj.skinny(T, 6144, 4096, 256, 4096, 512) == rowsAllow, "a 48 MB weight follows the row rule");
        assertTrue(!proj.skinny(T, 2 * 14336, 4096, 256, 4096, 512), "a 224 MB weight stays on cuBLAS");
        assertTrue(new Projections(gemm, layers, skinnyRows, Long.MAX_VALUE).skinny(T, 2 * 14336, 4096, 256, 4096, 512) == rowsAllow,
                "without the cap only the rows decide");
    }

    private float[] read(long dy, int n, boolean fp32) {
        if (!fp32) return copies.readBf16(dy, n);
        float[] got = new float[n];
        copies.readFloats(dy, got, 0, n);
        return got;
    }

    private long up(String name, float[] data) {
        long a = arena.carve(name, 2L * data.length).address();
        copies.bf16(a, data);
        return a;
    }
}
