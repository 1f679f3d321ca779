package dev.podserve.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The decode, prefill and merge launchers against a plain causal softmax attention in Java over
 * the same bf16 inputs, on a randomly scattered paged cache; forced small KV chunks make the
 * kernels split and merge. A sliding window W lets the row at position p see keys p - W + 1 .. p.
 */
@Tag("gpu")
class AttentionGpuTest {

    private DeviceArena arena;
    private DeviceCopies copies;
    private AttentionKernels attn;

    @BeforeEach
    void setUp() {
        Gpu.require();
        arena = new DeviceArena(512L << 20);
        copies = new DeviceCopies(Gpu.ctx());
        attn = new AttentionKernels(Gpu.ctx(), Gpu.module());
    }

    @AfterEach
    void tearDown() {
        if (attn != null) attn.close();
        if (copies != null) copies.close();
        if (arena != null) arena.close();
    }

    /**
     * @param prefills   query lengths of the prefill requests ("-" for none), each with a cached prefix
     * @param decodes    decode requests, each with a random context up to maxContext
     * @param forceChunk keys per split (0: the planner's choice)
     * @param window     sliding window (0: none)
     */
    @ParameterizedTest(name = "hd{0} heads {1}/{2} page {3} prefills {4} decodes {5} ctx {6} chunk {7} window {8}")
    @CsvSource({
            "64, 4, 4, 1, 1 127, 17, 300, 0, 0",
            "128, 32, 8, 16, 127 5, 17, 1100, 0, 0",
            "128, 8, 1, 16, 1030, 3, 1030, 256, 0",
            "64, 8, 1, 16, 200, 9, 2000, 256, 0",
            "128, 16, 4, 1, -, 17, 1500, 0, 0",
            "128, 8, 2, 16, 33 64, 0, 10, 64, 0",
            "32, 4, 4, 16, 1 127, 17, 300, 0, 0",
            "16, 4, 1, 1, 200 7, 9, 1000, 64, 0",
            "16, 4, 2, 16, 130 40, 17, 1000, 64, 16",
            "32, 8, 1, 1, 300, 9, 2000, 256, 7",
            "128, 8, 2, 16, 200 3, 17, 1500, 256, 100",
            "64, 4, 4, 16, 50, 5, 500, 0, 1",
    })
    void matchesTheReference(int hd, int H, int KVH, int pageSize, String prefills, int decodes, int maxContext,
                             int forceChunk, int window) {
        Random rnd = new Random(hd * 31L + H * 7L + pageSize + decodes + maxContext);
        List<Integer> qlens = new ArrayList<>();
        List<Integer> kvlens = new ArrayList<>();
        if (!prefills.equals("-")) {
            for (String s : prefills.split(" ")) {
                int q = Integer.parseInt(s);
                qlens.add(q);
                kvlens.add(q + rnd.nextInt(300));
            }
        }
        int P = qlens.size();
        for (int i = 0; i < decodes; i++) {
            qlens.add(1);
            kvlens.add(1 + rnd.nextInt(maxContext));
        }
        int R = qlens.size();
        int[] qo = new int[R + 1];
        int[] kvIndptr = new int[R + 1];
        int[] lastLen = new int[R];
        List<Integer> pageList = new ArrayList<>();
        int totalPages = 0;
        for (int r = 0; r < R; r++) totalPages += (kvlens.get(r) + pageSize - 1) / pageSize;
        List<Integer> free = new ArrayList<>();
        for (int p = 0; p < totalPages + 7; p++) free.add(p);
        Collections.shuffle(free, rnd);
        for (int r = 0; r < R; r++) {
            qo[r + 1] = qo[r] + qlens.get(r);
            int n = (kvlens.get(r) + pageSize - 1) / pageSize;
            for (int i = 0; i < n; i++) pageList.add(free.remove(0));
            kvIndptr[r + 1] = pageList.size();
            lastLen[r] = kvlens.get(r) - (n - 1) * pageSize;
        }
        int numPages = totalPages + 7;
        int T = qo[R];
        int qStride = H * hd + 8;
        float[] q = Gpu.bf16Random(rnd, T * qStride, 1f);
        float[] kc = Gpu.bf16Random(rnd, numPages * KVH * pageSize * hd, 1f);
        float[] vc = Gpu.bf16Random(rnd, numPages * KVH * pageSize * hd, 1f);
        int[] pages = pageList.stream().mapToInt(Integer::intValue).toArray();

        long dq = upload("q", q);
        long dk = upload("k", kc);
        long dv = upload("v", vc);
        long out = arena.carve("out", 2L * T * H * hd).address();
        copies.fill(out, (byte) 0xFF, 2L * T * H * hd);
        long dqo = ints("qo", qo);
        long dkvi = ints("kvi", kvIndptr);
        long dpages = ints("pages", pages);
        long dlast = ints("last", lastLen);
        int sms = Gpu.ctx().smCount();
        AttentionPlan pre = P == 0 ? null : AttentionPlan.prefill(qo, kvIndptr, lastLen, 0, P, pageSize, H, KVH, hd, sms, forceChunk);
        AttentionPlan dec = R == P ? null : AttentionPlan.decode(qo, kvIndptr, lastLen, P, R - P, pageSize, H, KVH, hd, sms, forceChunk);
        long partialO = 0;
        long partialLse = 0;
        long maxO = Math.max(pre == null ? 0 : pre.partialOFloats(), dec == null ? 0 : dec.partialOFloats());
        long maxL = Math.max(pre == null ? 0 : pre.partialLseFloats(), dec == null ? 0 : dec.partialLseFloats());
        if (maxO > 0) {
            partialO = arena.carve("po", 4 * maxO).address();
            partialLse = arena.carve("pl", 4 * maxL).address();
        }
        // The decode merges its split rows itself, as the backend launches it; a decode grid has at
        // most one x per query head of each request.
        long mergeCounters = arena.carve("merge counters", 4L * R * H).address();
        copies.fill(mergeCounters, (byte) 0, 4L * R * H);
        AttentionKernels.Buffers b = new AttentionKernels.Buffers(dq, qStride, dk, dv, out, H * hd, dqo, dkvi, dpages, dlast,
                partialO, partialLse, mergeCounters);
        if (pre != null) attn.prefill(b, pre, ints("work", pre.workItems()), 0, P, H, KVH, hd, pageSize, window);
        if (dec != null) attn.decode(b, dec, P, R - P, H, KVH, hd, pageSize, window);
        float[] got = copies.readBf16(out, T * H * hd);
        assertArrayEquals(new int[R * H], copies.readInts(mergeCounters, R * H), "the decode leaves its merge counters zero");

        float[] exp = new float[T * H * hd];
        int group = H / KVH;
        float scale = (float) (1 / Math.sqrt(hd));
        for (int r = 0; r < R; r++) {
            int qlen = qlens.get(r);
            int kvLen = kvlens.get(r);
            for (int i = 0; i < qlen; i++) {
                int t = qo[r] + i;
                int last = kvLen - qlen + i;
                int first = window > 0 ? Math.max(0, last - window + 1) : 0;
                for (int h = 0; h < H; h++) {
                    int kvh = h / group;
                    double[] s = new double[last + 1];
                    double max = Double.NEGATIVE_INFINITY;
                    for (int j = first; j <= last; j++) {
                        int base = ((pages[kvIndptr[r] + j / pageSize] * KVH + kvh) * pageSize + j % pageSize) * hd;
                        double dot = 0;
                        for (int d = 0; d < hd; d++) dot += (double) q[t * qStride + h * hd + d] * kc[base + d];
                        s[j] = dot * scale;
                        max = Math.max(max, s[j]);
                    }
                    double sum = 0;
                    for (int j = first; j <= last; j++) sum += s[j] = Math.exp(s[j] - max);
                    for (int d = 0; d < hd; d++) {
                        double acc = 0;
                        for (int j = first; j <= last; j++) {
                            int base = ((pages[kvIndptr[r] + j / pageSize] * KVH + kvh) * pageSize + j % pageSize) * hd;
                            acc += s[j] * vc[base + d];
                        }
                        exp[t * H * hd + h * hd + d] = (float) (acc / sum);
                    }
                }
            }
        }
        // Softmax-weighted means of unit-range values shrink with the context; 2e-3 absolute covers
        // bf16's rounding of P before the P.V product near zero.
        Gpu.assertClose("attention out", exp, got, 2e-3f);
    }

    private long upload(String name, float[] data) {
        long a = arena.carve(name, 2L * data.length).address();
        copies.bf16(a, data);
        return a;
    }

    private long ints(String name, int[] data) {
        long a = arena.carve(name, 4L * Math.max(1, data.length)).address();
        copies.ints(a, data, data.length);
        return a;
    }
}
