package dev.podserve.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Each layer launcher against a plain Java reference of its params.h contract, on fresh random
 * inputs at awkward sizes (rows not multiples of 8 take the kernels' scalar paths), outputs
 * poisoned with NaN before every launch so an element the kernel misses fails.
 */
@Tag("gpu")
class LayerKernelsGpuTest {

    private static final byte POISON = (byte) 0xFF;
    private DeviceArena arena;
    private DeviceCopies copies;
    private LayerKernels k;

    @BeforeEach
    void setUp() {
        Gpu.require();
        arena = new DeviceArena(64L << 20);
        copies = new DeviceCopies(Gpu.ctx());
        k = new LayerKernels(Gpu.ctx(), Gpu.module());
    }

    @AfterEach
    void tearDown() {
        if (k != null) k.close();
        if (copies != null) copies.close();
        if (arena != null) arena.close();
    }

    private long bf16(String name, float[] data) {
        long a = arena.carve(name, 2L * data.length).address();
        copies.bf16(a, data);
        return a;
    }

    private long ints(String name, int[] data) {
        long a = arena.carve(name, 4L * Math.max(1, data.length)).address();
        copies.ints(a, data, data.length);
        return a;
    }

    private long poisoned(String name, long bytes) {
        long a = arena.carve(name, bytes).address();
        copies.fill(a, POISON, bytes);
        return a;
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 37})
    void embeddingCopiesRowsAndMarksBadIds(int T) {
        Random rnd = new Random(T);
        int vocab = 101;
        int hidden = 200;
        int stride = 208;
        float[] table = Gpu.bf16Random(rnd, vocab * hidden, 1f);
        int[] ids = new int[T];
        for (int t = 0; t < T; t++) ids[t] = rnd.nextInt(vocab);
        if (T > 1) ids[T - 1] = vocab;
        long out = poisoned("out", 2L * T * stride);
        k.embedding(bf16("table", table), ints("ids", ids), out, stride, T, hidden, vocab);
        float[] got = copies.readBf16(out, T * stride);
        for (int t = 0; t < T; t++) {
            for (int i = 0; i < hidden; i++) {
                float e = ids[t] < vocab ? table[ids[t] * hidden + i] : Float.NaN;
                float g = got[t * stride + i];
                assertTrue(Float.isNaN(e) ? Float.isNaN(g) : g == e, "row " + t + " col " + i);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 19})
    void addRmsNormMatchesTheReference(int T) {
        Random rnd = new Random(100 + T);
        for (int hidden : new int[] {4096, 333}) {
            for (boolean withX : new boolean[] {true, false}) {
                float[] x = Gpu.bf16Random(rnd, T * hidden, 2f);
                float[] res = Gpu.bf16Random(rnd, T * hidden, 2f);
                float[] w = Gpu.bf16Random(rnd, hidden, 1.5f);
                float eps = 1e-5f;
                long dRes = bf16("res", res);
                long out = poisoned("out", 2L * T * hidden);
                k.addRmsNorm(withX ? bf16("x", x) : 0, hidden, dRes, hidden, bf16("w", w), out, hidden, T, hidden, eps);
                float[] expRes = new float[T * hidden];
                float[] expOut = new float[T * hidden];
                for (int t = 0; t < T; t++) {
                    double ss = 0;
                    for (int i = 0; i < hidden; i++) {
                        float r = Bf16.round(res[t * hidden + i] + (withX ? x[t * hidden + i] : 0f));
                        expRes[t * hidden + i] = r;
                        ss += (double) r * r;
                    }
                    float inv = (float) (1.0 / Math.sqrt(ss / hidden + eps));
                    for (int i = 0; i < hidden; i++) expOut[t * hidden + i] = w[i] * expRes[t * hidden + i] * inv;
                }
                Gpu.assertClose("residual", expRes, copies.readBf16(dRes, T * hidden), 0f);
                Gpu.assertClose("out", expOut, copies.readBf16(out, T * hidden), 1e-3f);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 29})
    void ropeRotatesQAndKInsideAFusedRow(int T) {
        Random rnd = new Random(200 + T);
        int heads = 6;
        int kvHeads = 2;
        int hd = 64;
        int half = hd / 2;
        int stride = (heads + 2 * kvHeads) * hd;
        int maxPos = 300;
        float[] qkv = Gpu.bf16Random(rnd, T * stride, 1f);
        float[] cos = new float[maxPos * half];
        float[] sin = new float[maxPos * half];
        for (int p = 0; p < maxPos; p++) {
            for (int i = 0; i < half; i++) {
                double a = p * Math.pow(10000, -2.0 * i / hd);
                cos[p * half + i] = (float) Math.cos(a);
                sin[p * half + i] = (float) Math.sin(a);
            }
        }
        int[] pos = new int[T];
        for (int t = 0; t < T; t++) pos[t] = rnd.nextInt(maxPos);
        long d = bf16("qkv", qkv);
        long dc = arena.carve("cos", 4L * cos.length).address();
        long ds = arena.carve("sin", 4L * sin.length).address();
        copies.floats(dc, cos);
        copies.floats(ds, sin);
        k.rope(d, stride, d + 2L * heads * hd, stride, dc, ds, ints("pos", pos), T, heads, kvHeads, hd, hd, maxPos);
        float[] exp = qkv.clone();
        for (int t = 0; t < T; t++) {
            for (int h = 0; h < heads + kvHeads; h++) {
                int o = t * stride + h * hd;
                for (int i = 0; i < half; i++) {
                    float c = cos[pos[t] * half + i];
                    float s = sin[pos[t] * half + i];
                    float x1 = qkv[o + i];
                    float x2 = qkv[o + half + i];
                    exp[o + i] = x1 * c - x2 * s;
                    exp[o + half + i] = x2 * c + x1 * s;
                }
            }
        }
        Gpu.assertClose("qkv", exp, copies.readBf16(d, T * stride), 1e-3f);
    }

    @ParameterizedTest
    @ValueSource(ints = {1000, 1024, 14336})
    void siluMulMatchesTheReference(int inter) {
        Random rnd = new Random(inter);
        int T = 7;
        float[] gu = Gpu.bf16Random(rnd, T * 2 * inter, 4f);
        long out = poisoned("out", 2L * T * inter);
        k.siluMul(bf16("gu", gu), 2L * inter, out, inter, T, inter);
        float[] exp = new float[T * inter];
        for (int t = 0; t < T; t++) {
            for (int i = 0; i < inter; i++) {
                float g = gu[t * 2 * inter + i];
                exp[t * inter + i] = (float) (g / (1 + Math.exp(-g))) * gu[t * 2 * inter + inter + i];
            }
        }
        Gpu.assertClose("silu", exp, copies.readBf16(out, T * inter), 1e-3f);
    }

    /**
     * Requests with {@code cached[r]} tokens already in the cache and {@code fresh[r]} new ones, on
     * pages drawn at random from {@code numPages}: the CSR arrays, each new token's position, and its
     * cache slot (page * pageSize + offset).
     */
    private record PagedBatch(int T, int[] qo, int[] kvIndptr, int[] pages, int[] pos, int[] slot) {
        static PagedBatch of(int[] cached, int[] fresh, int pageSize, int numPages, Random rnd) {
            int R = cached.length;
            int[] qo = new int[R + 1];
            int[] kvIndptr = new int[R + 1];
            java.util.List<Integer> pages = new java.util.ArrayList<>();
            java.util.List<Integer> free = new java.util.ArrayList<>();
            for (int p = 0; p < numPages; p++) free.add(p);
            java.util.Collections.shuffle(free, rnd);
            for (int r = 0; r < R; r++) {
                qo[r + 1] = qo[r] + fresh[r];
                int n = (cached[r] + fresh[r] + pageSize - 1) / pageSize;
                for (int i = 0; i < n; i++) pages.add(free.remove(0));
                kvIndptr[r + 1] = pages.size();
            }
            int T = qo[R];
            int[] pos = new int[T];
            int[] slot = new int[T];
            for (int r = 0; r < R; r++) {
                for (int i = 0; i < fresh[r]; i++) {
                    int p = cached[r] + i;
                    pos[qo[r] + i] = p;
                    slot[qo[r] + i] = pages.get(kvIndptr[r] + p / pageSize) * pageSize + p % pageSize;
                }
            }
            return new PagedBatch(T, qo, kvIndptr, pages.stream().mapToInt(Integer::intValue).toArray(), pos, slot);
        }
    }

    /** The fused launch against the pair it replaces: the same rotated q/k rows and the same cache bytes, bit for bit. */
    @ParameterizedTest
    @ValueSource(ints = {1, 16})
    void ropeAppendEqualsRopeThenKvAppend(int pageSize) {
        Random rnd = new Random(900 + pageSize);
        int heads = 8;
        int kvHeads = 2;
        int hd = 128;
        int half = hd / 2;
        int kvDim = kvHeads * hd;
        int stride = (heads + 2 * kvHeads) * hd;
        int maxPos = 400;
        int numPages = pageSize == 1 ? 400 : 40;
        PagedBatch b = PagedBatch.of(new int[] {5, 0, 40, 300}, new int[] {9, 21, 1, 1}, pageSize, numPages, rnd);
        int T = b.T();
        int R = b.qo().length - 1;
        float[] qkv = Gpu.bf16Random(rnd, T * stride, 1f);
        float[] cos = new float[maxPos * half];
        float[] sin = new float[maxPos * half];
        for (int p = 0; p < maxPos; p++) {
            for (int i = 0; i < half; i++) {
                double a = p * Math.pow(500000, -2.0 * i / hd);
                cos[p * half + i] = (float) Math.cos(a);
                sin[p * half + i] = (float) Math.sin(a);
            }
        }
        long dc = arena.carve("cos", 4L * cos.length).address();
        long ds = arena.carve("sin", 4L * sin.length).address();
        copies.floats(dc, cos);
        copies.floats(ds, sin);
        long dpos = ints("pos", b.pos());
        long dqo = ints("qo", b.qo());
        long dkvi = ints("kvi", b.kvIndptr());
        long dpages = ints("pages", b.pages());
        long cacheBytes = 2L * numPages * kvHeads * pageSize * hd;
        long[] rows = new long[2];
        long[][] caches = new long[2][2];
        for (int run = 0; run < 2; run++) {
            rows[run] = bf16("qkv" + run, qkv);
            caches[run][0] = poisoned("k" + run, cacheBytes);
            caches[run][1] = poisoned("v" + run, cacheBytes);
            long q = rows[run];
            long kk = q + 2L * heads * hd;
            long v = q + 2L * (heads * hd + kvDim);
            if (run == 0) {
                k.rope(q, stride, kk, stride, dc, ds, dpos, T, heads, kvHeads, hd, hd, maxPos);
                k.kvAppend(kk, stride, v, stride, caches[run][0], caches[run][1], dqo, dkvi, dpages, dpos, T, R, kvHeads, hd,
                        pageSize, numPages);
            } else {
                k.ropeAppend(q, stride, kk, stride, v, stride, dc, ds, dpos, T, heads, kvHeads, hd, hd, maxPos, caches[run][0],
                        caches[run][1], dqo, dkvi, dpages, R, pageSize, numPages);
            }
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(copies.readBf16Bits(rows[0], T * stride),
                copies.readBf16Bits(rows[1], T * stride), "rotated q/k/v rows");
        for (int c = 0; c < 2; c++) {
            org.junit.jupiter.api.Assertions.assertArrayEquals(copies.readBf16Bits(caches[0][c], (int) (cacheBytes / 2)),
                    copies.readBf16Bits(caches[1][c], (int) (cacheBytes / 2)), c == 0 ? "K cache" : "V cache");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 16})
    void kvAppendWritesExactlyTheBatchSlots(int pageSize) {
        Random rnd = new Random(300 + pageSize);
        int kvHeads = 2;
        int hd = 64;
        int kvDim = kvHeads * hd;
        int numPages = 80;
        // Three requests: 5 cached + 9 new, 0 cached + 21 new, 40 cached + 1 new (a decode).
        PagedBatch b = PagedBatch.of(new int[] {5, 0, 40}, new int[] {9, 21, 1}, pageSize, numPages, rnd);
        int T = b.T();
        int R = 3;
        int[] slot = b.slot();
        int stride = 3 * kvDim + 8;
        float[] kv = Gpu.bf16Random(rnd, T * stride, 1f);
        long d = bf16("kv", kv);
        long cacheBytes = 2L * numPages * kvHeads * pageSize * hd;
        long kc = poisoned("k", cacheBytes);
        long vc = poisoned("v", cacheBytes);
        k.kvAppend(d, stride, d + 2L * (2 * kvDim), stride, kc, vc, ints("qo", b.qo()), ints("kvi", b.kvIndptr()),
                ints("pages", b.pages()), ints("pos", b.pos()), T, R, kvHeads, hd, pageSize, numPages);
        float[] gk = copies.readBf16(kc, (int) (cacheBytes / 2));
        float[] gv = copies.readBf16(vc, (int) (cacheBytes / 2));
        int written = 0;
        for (float f : gk) if (!Float.isNaN(f)) written++;
        assertEquals(T * kvDim, written, "K elements written");
        for (int t = 0; t < T; t++) {
            int page = slot[t] / pageSize;
            int off = slot[t] % pageSize;
            for (int h = 0; h < kvHeads; h++) {
                for (int i = 0; i < hd; i++) {
                    int c = ((page * kvHeads + h) * pageSize + off) * hd + i;
                    assertEquals(kv[t * stride + h * hd + i], gk[c], "K token " + t);
                    assertEquals(kv[t * stride + 2 * kvDim + h * hd + i], gv[c], "V token " + t);
                }
            }
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 5})
    void gatherLastRowsPicksEachSampledRequestsLastRow(int S) {
        Random rnd = new Random(400 + S);
        int hidden = 300;
        int[] qo = {0, 7, 8, 20, 21, 22, 30};
        int R = qo.length - 1;
        int[] sample = S == 1 ? new int[] {3} : new int[] {0, 1, 2, 4, 5};
        int T = qo[R];
        float[] src = Gpu.bf16Random(rnd, T * hidden, 1f);
        long dst = poisoned("dst", 2L * S * hidden);
        k.gatherLastRows(bf16("src", src), hidden, dst, hidden, ints("qo", qo), ints("s", sample), S, hidden, R);
        float[] exp = new float[S * hidden];
        for (int s = 0; s < S; s++) System.arraycopy(src, (qo[sample[s] + 1] - 1) * hidden, exp, s * hidden, hidden);
        assertArrayEquals(exp, copies.readBf16(dst, S * hidden));
    }

    @ParameterizedTest
    @ValueSource(ints = {583, 128256})
    void argmaxTakesTheLowestIndexOfTheLargest(int vocab) {
        Random rnd = new Random(vocab);
        int S = 3;
        float[] logits = new float[S * vocab];
        for (int i = 0; i < logits.length; i++) logits[i] = rnd.nextFloat() * 10;
        logits[vocab - 1] = 20f;
        logits[5] = 20f;
        logits[vocab + 9] = Float.NaN;
        logits[vocab + vocab - 2] = 30f;
        logits[2 * vocab + 1] = 11f;
        long d = arena.carve("logits", 4L * logits.length).address();
        copies.floats(d, logits);
        long out = poisoned("out", 4L * S);
        k.argmax(d, vocab, out, S, vocab);
        assertArrayEquals(new int[] {5, vocab - 2, 1}, copies.readInts(out, S));
    }
}
