package dev.podserve.backend.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.junit.jupiter.api.Test;

class ElementwiseKernelTest {

    @Test
    void fastExpIsAccurateOverItsRange() {
        Random rnd = new Random(21);
        double worst = 0;
        for (int i = 0; i < 200_000; i++) {
            float x = -87f + rnd.nextFloat() * 175f;
            double rel = Math.abs(FastExp.exp(x) - Math.exp(x)) / Math.exp(x);
            worst = Math.max(worst, rel);
        }
        assertTrue(worst < 4e-7, "worst relative error " + worst);
        assertEquals(1f, FastExp.exp(0f));
        assertTrue(FastExp.exp(-1000f) > 0f && FastExp.exp(-1000f) < 1e-37f, "clamped below");
        assertTrue(Float.isFinite(FastExp.exp(1000f)), "clamped above");
        assertEquals(0f, FastExp.silu(-200f), 1e-30f);
        assertEquals(200f, FastExp.silu(200f), 0f);
    }

    @Test
    void vectorExpAndSiluAreBitwiseTheScalarOnes() {
        Random rnd = new Random(22);
        VectorKernels v = new VectorKernels();
        Workspace ws = v.newWorkspace();
        for (int n : new int[] {1, 15, 16, 17, 100, 257}) {
            float[] s = new float[n];
            for (int i = 0; i < n; i++) s[i] = (rnd.nextFloat() - 0.5f) * 60f;
            float max = Float.NEGATIVE_INFINITY;
            for (float f : s) max = Math.max(max, f);
            float[] expected = new float[n];
            for (int i = 0; i < n; i++) expected[i] = FastExp.exp(s[i] - max);
            v.expShiftedSum(s, n, max, ws);
            for (int i = 0; i < n; i++) assertEquals(Float.floatToIntBits(expected[i]), Float.floatToIntBits(s[i]), "n=" + n + " i=" + i);

            float[] gu = new float[2 * n];
            for (int i = 0; i < gu.length; i++) gu[i] = (rnd.nextFloat() - 0.5f) * 40f;
            float[] out = new float[n];
            v.siluMul(gu, 0, n, out, 0);
            for (int i = 0; i < n; i++) {
                assertEquals(Float.floatToIntBits(FastExp.silu(gu[i]) * gu[n + i]), Float.floatToIntBits(out[i]), "silu n=" + n);
                double g = gu[i];
                assertEquals(g / (1 + Math.exp(-g)) * gu[n + i], out[i], 1e-5 * (1 + Math.abs(out[i])));
            }
        }
    }

    @Test
    void scoresMatchDoubleArithmeticAndVectorEqualsScalarBitwise() {
        Random rnd = new Random(23);
        VectorKernels v = new VectorKernels();
        ScalarKernels sc = new ScalarKernels();
        for (int headDim : new int[] {8, 16, 64}) {
            for (int n : new int[] {1, 15, 16, 17, 64, 100, 130}) {
                int stride = n + 3;
                float[] q = new float[headDim + 2];
                float[] kt = new float[headDim * stride];
                for (int i = 0; i < q.length; i++) q[i] = rnd.nextFloat() - 0.5f;
                for (int i = 0; i < kt.length; i++) kt[i] = rnd.nextFloat() - 0.5f;
                int kto = 3;
                float[] fast = new float[n];
                float[] plain = new float[n];
                float[] whole = new float[stride];
                v.scores(q, 2, kt, kto, stride, n, headDim, 0.125f, fast);
                sc.scores(q, 2, kt, kto, stride, n, headDim, 0.125f, plain);
                v.scores(q, 2, kt, 0, stride, stride, headDim, 0.125f, whole);
                for (int j = 0; j < n; j++) {
                    double ref = 0;
                    for (int d = 0; d < headDim; d++) ref += (double) q[2 + d] * kt[kto + d * stride + j];
                    assertEquals(ref * 0.125, fast[j], 1e-6, "headDim " + headDim + " n " + n + " j " + j);
                    assertEquals(Float.floatToIntBits(plain[j]), Float.floatToIntBits(fast[j]), "lane vs scalar tail");
                    assertEquals(Float.floatToIntBits(whole[kto + j]), Float.floatToIntBits(fast[j]), "a position's score moved with the offset");
                }
            }
        }
    }

    @Test
    void axpyAndScaleMatchDoubleArithmetic() {
        Random rnd = new Random(24);
        for (CpuKernels k : new CpuKernels[] {new VectorKernels(), new ScalarKernels()}) {
            for (int n : new int[] {1, 8, 16, 31, 64, 100}) {
                float[] a = new float[n + 3];
                float[] b = new float[n + 5];
                for (int i = 0; i < a.length; i++) a[i] = rnd.nextFloat() - 0.5f;
                for (int i = 0; i < b.length; i++) b[i] = rnd.nextFloat() - 0.5f;
                float[] y = b.clone();
                k.axpy(0.75f, a, 3, y, 5, n);
                for (int i = 0; i < n; i++) assertEquals(b[5 + i] + 0.75 * a[3 + i], y[5 + i], 1e-6);
                assertEquals(b[4], y[4], 0f);
                k.scale(y, 5, n, 2f);
                for (int i = 0; i < n; i++) assertEquals(2 * (b[5 + i] + 0.75 * a[3 + i]), y[5 + i], 2e-6);
            }
        }
    }
}
