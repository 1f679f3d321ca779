package dev.podserve.backend.cpu;

import java.util.Arrays;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Kernels on the incubating Vector API. This is the only class that names {@code jdk.incubator.vector};
 * {@link KernelSelector} loads it reflectively, and only when the module is in the boot layer.
 *
 * <p>How a dot product of length K is computed, identically in every tile shape and call:
 * lane l of one accumulator vector sums {@code w[k]*x[k]} for k = l, l+L, l+2L, ... below
 * {@code K - K % L} by fused multiply-adds in increasing k; the L lanes are then added in lane
 * order starting from 0; the last {@code K % L} products follow as a scalar fma chain. Register
 * tiles (4 weight rows by 4 tokens, with 4x1 and 1x1 edges) and cache blocking (tokens, rows, and
 * K, whose partial lane sums are parked exactly in {@link Workspace#acc}) change only which
 * accumulators live in registers together, never that order, so a token's result does not depend
 * on how many tokens share the call.
 */
final class VectorKernels implements CpuKernels {

    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int L = S.length();
    /** Weight rows per cache block: ROW_BLOCK * K_BLOCK floats (64 KB) stay in L1/L2 while tokens stream past. */
    static final int ROW_BLOCK = 32;
    /** Tokens per cache block: the block's activation slice is reused by every row of the row block. */
    static final int TOKEN_BLOCK = 32;
    /** Floats of K per block; a multiple of every vector length. */
    private static final int K_BLOCK = 512;

    @Override
    public String name() {
        return "vector " + S.vectorBitSize() + "-bit";
    }

    @Override
    public Workspace newWorkspace() {
        return new Workspace(L, TOKEN_BLOCK * ROW_BLOCK * L);
    }

    @Override
    public void matmulRows(float[] x, int T, int K, float[] w, int N, int n0, int n1, float[] y, boolean accumulate,
                           Workspace ws) {
        int kv = K - K % L;
        float[] acc = ws.acc;
        for (int r0 = n0; r0 < n1; r0 += ROW_BLOCK) {
            int r1 = Math.min(n1, r0 + ROW_BLOCK);
            int rows = r1 - r0;
            for (int t0 = 0; t0 < T; t0 += TOKEN_BLOCK) {
                int t1 = Math.min(T, t0 + TOKEN_BLOCK);
                // acc layout: [t - t0][n - r0][lane]
                Arrays.fill(acc, 0, (t1 - t0) * rows * L, 0f);
                for (int k0 = 0; k0 < kv; k0 += K_BLOCK) {
                    int k1 = Math.min(kv, k0 + K_BLOCK);
                    int n = r0;
                    for (; n + 4 <= r1; n += 4) {
                        int t = t0;
                        for (; t + 4 <= t1; t += 4) {
                            tile4x4(x, K, w, acc, ((t - t0) * rows + (n - r0)) * L, rows * L, t, n, k0, k1);
                        }
                        for (; t < t1; t++) tile4x1(x, K, w, acc, ((t - t0) * rows + (n - r0)) * L, t, n, k0, k1);
                    }
                    for (; n < r1; n++) {
                        for (int t = t0; t < t1; t++) tile1x1(x, K, w, acc, ((t - t0) * rows + (n - r0)) * L, t, n, k0, k1);
                    }
                }
                for (int t = t0; t < t1; t++) {
                    for (int n = r0; n < r1; n++) {
                        float s = laneSum(acc, ((t - t0) * rows + (n - r0)) * L);
                        for (int k = kv; k < K; k++) s = Math.fma(w[n * K + k], x[t * K + k], s);
                        int i = t * N + n;
                        y[i] = accumulate ? y[i] + s : s;
                    }
                }
            }
        }
    }

    /** The fixed lane order shared by every reduction in this class. */
    private static float laneSum(float[] a, int off) {
        float s = 0f;
        for (int l = 0; l < L; l++) s += a[off + l];
        return s;
    }

    /**
     * Weight rows n..n+3 against tokens t..t+3 over k0..k1-1: 16 accumulators, 8 loads per 16 fmas.
     * Accumulator (row n+i, token t+j) lives at {@code acc[a + j*tokenStride + i*L]}.
     */
    private static void tile4x4(float[] x, int K, float[] w, float[] acc, int a, int tokenStride, int t, int n,
                                int k0, int k1) {
        int a0 = a;
        int a1 = a + tokenStride;
        int a2 = a1 + tokenStride;
        int a3 = a2 + tokenStride;
        FloatVector c00 = FloatVector.fromArray(S, acc, a0);
        FloatVector c10 = FloatVector.fromArray(S, acc, a0 + L);
        FloatVector c20 = FloatVector.fromArray(S, acc, a0 + 2 * L);
        FloatVector c30 = FloatVector.fromArray(S, acc, a0 + 3 * L);
        FloatVector c01 = FloatVector.fromArray(S, acc, a1);
        FloatVector c11 = FloatVector.fromArray(S, acc, a1 + L);
        FloatVector c21 = FloatVector.fromArray(S, acc, a1 + 2 * L);
        FloatVector c31 = FloatVector.fromArray(S, acc, a1 + 3 * L);
        FloatVector c02 = FloatVector.fromArray(S, acc, a2);
        FloatVector c12 = FloatVector.fromArray(S, acc, a2 + L);
        FloatVector c22 = FloatVector.fromArray(S, acc, a2 + 2 * L);
        FloatVector c32 = FloatVector.fromArray(S, acc, a2 + 3 * L);
        FloatVector c03 = FloatVector.fromArray(S, acc, a3);
        FloatVector c13 = FloatVector.fromArray(S, acc, a3 + L);
        FloatVector c23 = FloatVector.fromArray(S, acc, a3 + 2 * L);
        FloatVector c33 = FloatVector.fromArray(S, acc, a3 + 3 * L);
        int x0 = t * K;
        int x1 = x0 + K;
        int x2 = x1 + K;
        int x3 = x2 + K;
        int w0 = n * K;
        int w1 = w0 + K;
        int w2 = w1 + K;
        int w3 = w2 + K;
        for (int k = k0; k < k1; k += L) {
            FloatVector v0 = FloatVector.fromArray(S, x, x0 + k);
            FloatVector v1 = FloatVector.fromArray(S, x, x1 + k);
            FloatVector v2 = FloatVector.fromArray(S, x, x2 + k);
            FloatVector v3 = FloatVector.fromArray(S, x, x3 + k);
            FloatVector r = FloatVector.fromArray(S, w, w0 + k);
            c00 = r.fma(v0, c00);
            c01 = r.fma(v1, c01);
            c02 = r.fma(v2, c02);
            c03 = r.fma(v3, c03);
            r = FloatVector.fromArray(S, w, w1 + k);
            c10 = r.fma(v0, c10);
            c11 = r.fma(v1, c11);
            c12 = r.fma(v2, c12);
            c13 = r.fma(v3, c13);
            r = FloatVector.fromArray(S, w, w2 + k);
            c20 = r.fma(v0, c20);
            c21 = r.fma(v1, c21);
            c22 = r.fma(v2, c22);
            c23 = r.fma(v3, c23);
            r = FloatVector.fromArray(S, w, w3 + k);
            c30 = r.fma(v0, c30);
            c31 = r.fma(v1, c31);
            c32 = r.fma(v2, c32);
            c33 = r.fma(v3, c33);
        }
        c00.intoArray(acc, a0);
        c10.intoArray(acc, a0 + L);
        c20.intoArray(acc, a0 + 2 * L);
        c30.intoArray(acc, a0 + 3 * L);
        c01.intoArray(acc, a1);
        c11.intoArray(acc, a1 + L);
        c21.intoArray(acc, a1 + 2 * L);
        c31.intoArray(acc, a1 + 3 * L);
        c02.intoArray(acc, a2);
        c12.intoArray(acc, a2 + L);
        c22.intoArray(acc, a2 + 2 * L);
        c32.intoArray(acc, a2 + 3 * L);
        c03.intoArray(acc, a3);
        c13.intoArray(acc, a3 + L);
        c23.intoArray(acc, a3 + 2 * L);
        c33.intoArray(acc, a3 + 3 * L);
    }

    /** Weight rows n..n+3 against token t; accumulator of row n+i at {@code acc[a + i*L]}. */
    private static void tile4x1(float[] x, int K, float[] w, float[] acc, int a, int t, int n, int k0, int k1) {
        FloatVector c0 = FloatVector.fromArray(S, acc, a);
        FloatVector c1 = FloatVector.fromArray(S, acc, a + L);
        FloatVector c2 = FloatVector.fromArray(S, acc, a + 2 * L);
        FloatVector c3 = FloatVector.fromArray(S, acc, a + 3 * L);
        int xo = t * K;
        int w0 = n * K;
        int w1 = w0 + K;
        int w2 = w1 + K;
        int w3 = w2 + K;
        for (int k = k0; k < k1; k += L) {
            FloatVector v = FloatVector.fromArray(S, x, xo + k);
            c0 = FloatVector.fromArray(S, w, w0 + k).fma(v, c0);
            c1 = FloatVector.fromArray(S, w, w1 + k).fma(v, c1);
            c2 = FloatVector.fromArray(S, w, w2 + k).fma(v, c2);
            c3 = FloatVector.fromArray(S, w, w3 + k).fma(v, c3);
        }
        c0.intoArray(acc, a);
        c1.intoArray(acc, a + L);
        c2.intoArray(acc, a + 2 * L);
        c3.intoArray(acc, a + 3 * L);
    }

    private static void tile1x1(float[] x, int K, float[] w, float[] acc, int a, int t, int n, int k0, int k1) {
        FloatVector c = FloatVector.fromArray(S, acc, a);
        int xo = t * K;
        int wo = n * K;
        for (int k = k0; k < k1; k += L) {
            c = FloatVector.fromArray(S, w, wo + k).fma(FloatVector.fromArray(S, x, xo + k), c);
        }
        c.intoArray(acc, a);
    }

    @Override
    public void scores(float[] q, int qo, float[] kt, int kto, int stride, int n, int headDim, float scale, float[] out) {
        int nv = n - n % L;
        int j = 0;
        for (; j + 4 * L <= nv; j += 4 * L) {
            FloatVector a0 = FloatVector.zero(S);
            FloatVector a1 = FloatVector.zero(S);
            FloatVector a2 = FloatVector.zero(S);
            FloatVector a3 = FloatVector.zero(S);
            for (int d = 0; d < headDim; d++) {
                FloatVector qd = FloatVector.broadcast(S, q[qo + d]);
                int row = kto + d * stride + j;
                a0 = qd.fma(FloatVector.fromArray(S, kt, row), a0);
                a1 = qd.fma(FloatVector.fromArray(S, kt, row + L), a1);
                a2 = qd.fma(FloatVector.fromArray(S, kt, row + 2 * L), a2);
                a3 = qd.fma(FloatVector.fromArray(S, kt, row + 3 * L), a3);
            }
            a0.mul(scale).intoArray(out, j);
            a1.mul(scale).intoArray(out, j + L);
            a2.mul(scale).intoArray(out, j + 2 * L);
            a3.mul(scale).intoArray(out, j + 3 * L);
        }
        for (; j < nv; j += L) {
            FloatVector a = FloatVector.zero(S);
            for (int d = 0; d < headDim; d++) {
                a = FloatVector.broadcast(S, q[qo + d]).fma(FloatVector.fromArray(S, kt, kto + d * stride + j), a);
            }
            a.mul(scale).intoArray(out, j);
        }
        for (; j < n; j++) {
            float s = 0f;
            for (int d = 0; d < headDim; d++) s = Math.fma(q[qo + d], kt[kto + d * stride + j], s);
            out[j] = s * scale;
        }
    }

    @Override
    public void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        int nv = n - n % L;
        FloatVector av = FloatVector.broadcast(S, alpha);
        for (int i = 0; i < nv; i += L) {
            av.fma(FloatVector.fromArray(S, x, xo + i), FloatVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
        }
        for (int i = nv; i < n; i++) y[yo + i] = Math.fma(alpha, x[xo + i], y[yo + i]);
    }

    @Override
    public void scale(float[] y, int yo, int n, float s) {
        int nv = n - n % L;
        for (int i = 0; i < nv; i += L) FloatVector.fromArray(S, y, yo + i).mul(s).intoArray(y, yo + i);
        for (int i = nv; i < n; i++) y[yo + i] *= s;
    }

    @Override
    public float expShiftedSum(float[] s, int n, float max, Workspace ws) {
        int nv = n - n % L;
        FloatVector sum = FloatVector.zero(S);
        for (int j = 0; j < nv; j += L) {
            FloatVector e = exp(FloatVector.fromArray(S, s, j).sub(max));
            e.intoArray(s, j);
            sum = sum.add(e);
        }
        sum.intoArray(ws.lanes, 0);
        float total = laneSum(ws.lanes, 0);
        for (int j = nv; j < n; j++) {
            float e = FastExp.exp(s[j] - max);
            s[j] = e;
            total += e;
        }
        return total;
    }

    @Override
    public void siluMul(float[] gu, int go, int inter, float[] out, int oo) {
        int nv = inter - inter % L;
        for (int i = 0; i < nv; i += L) {
            FloatVector g = FloatVector.fromArray(S, gu, go + i);
            FloatVector u = FloatVector.fromArray(S, gu, go + inter + i);
            g.div(exp(g.neg()).add(1f)).mul(u).intoArray(out, oo + i);
        }
        for (int i = nv; i < inter; i++) out[oo + i] = FastExp.silu(gu[go + i]) * gu[go + inter + i];
    }

    /** {@link FastExp#exp} lane by lane, the same operations in the same order. */
    private static FloatVector exp(FloatVector x) {
        x = x.max(FastExp.MIN_X).min(FastExp.MAX_X);
        FloatVector t = x.fma(FastExp.LOG2E, FastExp.ROUND_MAGIC);
        FloatVector n = t.sub(FastExp.ROUND_MAGIC);
        FloatVector r = n.fma(FloatVector.broadcast(S, -FastExp.LN2_HI), x);
        r = n.fma(FloatVector.broadcast(S, -FastExp.LN2_LO), r);
        FloatVector p = FloatVector.broadcast(S, FastExp.C6).fma(r, FloatVector.broadcast(S, FastExp.C5));
        p = p.fma(r, FloatVector.broadcast(S, FastExp.C4));
        p = p.fma(r, FloatVector.broadcast(S, FastExp.C3));
        p = p.fma(r, FloatVector.broadcast(S, FastExp.C2));
        p = p.fma(r, FloatVector.broadcast(S, 1f));
        p = p.fma(r, FloatVector.broadcast(S, 1f));
        FloatVector twoToN = t.reinterpretAsInts()
                .add(127 - FastExp.ROUND_MAGIC_BITS)
                .lanewise(VectorOperators.LSHL, 23)
                .reinterpretAsFloats();
        return p.mul(twoToN);
    }
}
