package dev.podserve.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.Random;

/**
 * Shared device, module and helpers of the gpu-tagged tests. {@link #require()} skips the calling
 * test (a JUnit assumption) where there is no device or no fatbin, before any native code loads.
 */
final class Gpu {

    private static CudaContext ctx;
    private static KernelModule module;

    private Gpu() {
    }

    static synchronized void require() {
        assumeTrue(KernelModule.fatbinPresent(), "no " + KernelModule.RESOURCE + " on the class path");
        assumeTrue(CudaContext.deviceCount() > 0, "no CUDA device");
        if (ctx == null) {
            ctx = CudaContext.open(0);
            module = KernelModule.load();
        }
        ctx.makeCurrent();
    }

    static CudaContext ctx() {
        return ctx;
    }

    static KernelModule module() {
        return module;
    }

    /** bf16-representable values uniform in [-scale, scale). */
    static float[] bf16Random(Random rnd, int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = Bf16.round((rnd.nextFloat() * 2 - 1) * scale);
        return a;
    }

    /** Every element within bf16 tolerance (rel 1e-2, plus a small absolute floor near zero); names the first miss. */
    static void assertClose(String what, float[] expected, float[] actual, float absFloor) {
        assertTrue(expected.length == actual.length, what + ": lengths differ");
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i];
            float a = actual[i];
            boolean ok = Float.isNaN(e) ? Float.isNaN(a) : Math.abs(a - e) <= 1e-2f * Math.abs(e) + absFloor;
            if (!ok) throw new AssertionError(what + ": element " + i + " is " + a + ", expected " + e);
        }
    }
}
