package dev.podserve.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java planner (AttentionPlan, PodPlan) against the C++ one it ports (attention_plan.h), on
 * random hybrid batches: g++ compiles the real header with a driver that reads the batches and
 * prints each plan, and every field the launch depends on must match (work list, chunk, splits,
 * grid, CTA counts, policy, static SMs, whether auto fuses). No GPU; skipped without g++ or the
 * cuda-kernels sources. Batches span the test space: 0-8 prefill chunks of 1-2048 rows on
 * prefixes of 0-5000, 0-256 decodes of 1-16384 keys (and a few up to 131072), page sizes 1 and 16,
 * GQA 1 to 12, head dims 16, 32, 64 and 128 (the decode's slots per SM depend on it), 78 to 132
 * SMs, every policy, CTAs per SM 2, 4 and auto; and auto's ticket replay at serving shapes, where it must
 * pick each of proportional and fifty-fifty somewhere. Every plan stays within MAX_SPLITS, which the
 * partial buffers are sized for.
 */
class PodPlanParityTest {

    private static final Path KERNELS = Path.of("cuda-kernels");

    // Reads "numSms hq hkv d page P D policy ctasPerSm" then P+D "qlen kvlen" pairs per line; prints
    // the standalone plans and the pod plan.
    private static final String DRIVER = """
            #include <stdio.h>
            #include <vector>
            #include "attention/attention_plan.h"
            using namespace ps_attn_plan;
            static void show(const char* tag, const Launch& L) {
                printf(" %s %d %d %d %u %u %zu %zu", tag, L.kvChunkSize, L.maxSplits, L.rows, L.gridX, L.gridY,
                       L.partialOFloats, L.partialLseFloats);
                for (int w : L.workItems) printf(" %d", w);
            }
            int main() {
                int sms, hq, hkv, d, page, np, nd, policy, ctas;
                while (scanf("%d %d %d %d %d %d %d %d %d", &sms, &hq, &hkv, &d, &page, &np, &nd, &policy, &ctas) == 9) {
                    std::vector<int32_t> qo{0}, kv{0}, last;
                    for (int r = 0; r < np + nd; ++r) {
                        int q, k;
                        if (scanf("%d %d", &q, &k) != 2) return 2;
                        qo.push_back(qo.back() + q);
                        int pages = (k + page - 1) / page;
                        kv.push_back(kv.back() + pages);
                        last.push_back(k - (pages - 1) * page);
                    }
                    if (np > 0) show("P", plan_prefill(qo.data(), kv.data(), last.data(), 0, np, page, hq, hkv, d, sms));
                    if (nd > 0) show("D", plan_decode(qo.data(), kv.data(), last.data(), np, nd, page, hq, hkv, d, sms));
                    PodLaunch pl = plan_pod(qo.data(), kv.data(), last.data(), np, nd, page, hq, hkv, d, sms, policy, 0, 0,
                                            PodTuning(), ctas);
                    if (np > 0) show("pp", pl.prefill);
                    if (nd > 0) show("pd", pl.decode);
                    printf(" pod %d %d %d %d %d %d %u %d %d\\n", pl.prefillCtas, pl.decodeCtas, pl.policy, pl.staticPrefillSms,
                           pl.fused ? 1 : 0, pl.fallbackStreams ? 1 : 0, pl.grid, pl.smemBytes, pl.ctasPerSm);
                }
                return 0;
            }
            """;

    @Test
    void javaPlansEqualTheHeaders(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isRegularFile(KERNELS.resolve("attention/attention_plan.h")), "cuda-kernels sources not here");
        assumeTrue(HostCompiler.available("g++"), "g++ not on the PATH");
        Path src = dir.resolve("plan.cpp");
        Files.writeString(src, DRIVER);
        Path exe = dir.resolve("plan");
        HostCompiler.run(List.of("g++", "-std=c++17", "-O1", "-Wall", "-Werror", "-I", KERNELS.toAbsolutePath().toString(), "-o", exe.toString(),
                src.toString()), null);

        Random rnd = new Random(20261126);
        int[][] shapes = {{32, 8, 128}, {32, 4, 128}, {32, 32, 128}, {16, 2, 64}, {28, 4, 128}, {8, 2, 16}, {12, 1, 32}};
        int[] smCounts = {132, 114, 78};
        StringBuilder input = new StringBuilder();
        List<String> expected = new ArrayList<>();
        int fusedDeclined = 0;
        int streamsFallbacks = 0;
        int spanSplits = 0;
        int autoFiftyFifty = 0;
        int autoReplayedProportional = 0;
        for (int c = 0; c < 560; c++) {
            // 400-479: serving-sized steps (one chunk late in a long prompt beside 17-48 decodes of
            // 4K-16.9K keys), where the span rule splits the prefill past the limited rule; 480-559:
            // chunks of 512-1024 anywhere in a prompt beside 4-32 decodes, auto, where its ticket
            // replay weighs fifty-fifty against proportional.
            boolean replayed = c >= 480;
            boolean serving = c >= 400;
            int[] shape = serving ? shapes[rnd.nextInt(2)] : shapes[rnd.nextInt(shapes.length)];
            int sms = serving ? 132 : smCounts[rnd.nextInt(smCounts.length)];
            int page = serving || rnd.nextBoolean() ? 16 : 1;
            int np = serving ? 1 : rnd.nextInt(9);
            int nd = replayed ? 4 + rnd.nextInt(29) : serving ? 17 + rnd.nextInt(32) : rnd.nextInt(4) == 0 ? rnd.nextInt(3) : rnd.nextInt(257);
            if (np + nd == 0) nd = 1;
            int policy = replayed || serving && rnd.nextInt(3) > 0 ? PodPlan.AUTO : rnd.nextInt(4);
            int servingChunk = replayed ? new int[] {512, 768, 1024}[rnd.nextInt(3)] : 512;
            int ctas = serving ? PodPlan.AUTO_CTAS : new int[] {PodPlan.AUTO_CTAS, 2, 4}[rnd.nextInt(3)];
            int servingLen = replayed ? servingChunk + rnd.nextInt(16385) : 8192 + rnd.nextInt(8705);
            int servingDecodeLen = 4096 + rnd.nextInt(12801);
            int[] qo = new int[np + nd + 1];
            int[] kvIndptr = new int[np + nd + 1];
            int[] last = new int[np + nd];
            input.append(sms).append(' ').append(shape[0]).append(' ').append(shape[1]).append(' ').append(shape[2]).append(' ')
                    .append(page).append(' ').append(np).append(' ').append(nd).append(' ').append(policy).append(' ').append(ctas);
            for (int r = 0; r < np + nd; r++) {
                int q = serving ? (r < np ? servingChunk : 1) : r < np ? 1 + rnd.nextInt(rnd.nextBoolean() ? 2048 : 64) : 1;
                int k = serving ? (r < np ? servingLen : servingDecodeLen - rnd.nextInt(64))
                        : r < np ? q + rnd.nextInt(5001) : 1 + rnd.nextInt(rnd.nextInt(8) == 0 ? 131072 : rnd.nextBoolean() ? 16384 : 600);
                qo[r + 1] = qo[r] + q;
                int pages = (k + page - 1) / page;
                kvIndptr[r + 1] = kvIndptr[r] + pages;
                last[r] = k - (pages - 1) * page;
                input.append(' ').append(q).append(' ').append(k);
            }
            input.append('\n');
            StringBuilder line = new StringBuilder();
            if (np > 0) show(line, "P", AttentionPlan.prefill(qo, kvIndptr, last, 0, np, page, shape[0], shape[1], shape[2], sms, 0));
            if (nd > 0) show(line, "D", AttentionPlan.decode(qo, kvIndptr, last, np, nd, page, shape[0], shape[1], shape[2], sms, 0));
            PodPlan pod = PodPlan.plan(qo, kvIndptr, last, np, nd, page, shape[0], shape[1], shape[2], sms, policy, 0, ctas);
            if (np > 0) show(line, "pp", pod.prefill());
            if (nd > 0) show(line, "pd", pod.decode());
            for (AttentionPlan plan : new AttentionPlan[] {pod.prefill(), pod.decode()}) {
                if (plan != null) assertTrue(plan.maxSplits() <= AttentionPlan.MAX_SPLITS, "batch " + c + ": " + plan);
            }
            line.append(" pod ").append(pod.prefillCtas()).append(' ').append(pod.decodeCtas()).append(' ').append(pod.policy())
                    .append(' ').append(pod.staticPrefillSms()).append(' ').append(pod.fused() ? 1 : 0).append(' ')
                    .append(pod.fallbackStreams() ? 1 : 0).append(' ')
                    .append(pod.grid()).append(' ').append(pod.smemBytes()).append(' ').append(pod.ctasPerSm());
            expected.add(line.toString());
            if (!pod.fused()) fusedDeclined++;
            // With at least as many decode units as SMs the limited rule keeps the prefill whole.
            if (np > 0 && nd * shape[1] >= sms && pod.prefill().maxSplits() > 1 && pod.ctasPerSm() == 2) spanSplits++;
            if (pod.fallbackStreams()) streamsFallbacks++;
            if (replayed && pod.fused() && pod.prefillCtas() > sms) {
                if (pod.policy() == PodPlan.FIFTY_FIFTY) autoFiftyFifty++;
                else autoReplayedProportional++;
            }
        }
        Path batches = dir.resolve("batches.txt");
        Files.writeString(batches, input);
        List<String> actual = HostCompiler.run(List.of(exe.toString()), batches).lines().toList();
        assertEquals(expected.size(), actual.size(), "one plan line per batch");
        for (int i = 0; i < expected.size(); i++) {
            assertEquals(actual.get(i), expected.get(i), "batch " + i + ": " + input.toString().lines().skip(i).findFirst().orElse(""));
        }
        assertTrue(fusedDeclined > streamsFallbacks, "some auto batches were decode-dominated enough to run serial");
        assertTrue(streamsFallbacks > 0, "some auto batches were prefill-dominated enough to run on two streams");
        assertTrue(spanSplits > 0, "the span rule split some prefills, so both ports of it were compared");
        assertTrue(autoFiftyFifty > 0 && autoReplayedProportional > 0,
                "auto's replay chose each policy somewhere (" + autoFiftyFifty + " fifty-fifty, " + autoReplayedProportional + " proportional)");
    }

    // Reads "numSms P D" then P + D hex doubles per line (the CTAs' work); prints the replay's span
    // under proportional and fifty-fifty tickets as hex doubles.
    private static final String SPAN_DRIVER = """
            #include <stdio.h>
            #include <vector>
            #include "attention/attention_plan.h"
            using namespace ps_attn_plan;
            int main() {
                int sms, np, nd;
                while (scanf("%d %d %d", &sms, &np, &nd) == 3) {
                    std::vector<double> pre(np), dec(nd);
                    for (double& x : pre) if (scanf("%la", &x) != 1) return 2;
                    for (double& x : dec) if (scanf("%la", &x) != 1) return 2;
                    printf("%a %a\\n", pod_ticket_span_us(pre, dec, sms, kPodProportional),
                           pod_ticket_span_us(pre, dec, sms, kPodFiftyFifty));
                }
                return 0;
            }
            """;

    /**
     * auto's ticket replay (pod_ticket_span_us, PodTicketReplay.spanUs) to the last bit, on random
     * launches: more prefill than decode CTAs and fewer, one phase used up early (the fall-back),
     * 1 to 140 SMs, and works drawn from a handful of values or all equal, so that events tie in
     * time and the priority queues' tie-breaking decides. javaPlansEqualTheHeaders compares only the
     * policy each batch ends with, which a different span rarely flips.
     */
    @Test
    void ticketReplaySpansEqualTheHeadersBitForBit(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isRegularFile(KERNELS.resolve("attention/attention_plan.h")), "cuda-kernels sources not here");
        assumeTrue(HostCompiler.available("g++"), "g++ not on the PATH");
        Path src = dir.resolve("span.cpp");
        Files.writeString(src, SPAN_DRIVER);
        Path exe = dir.resolve("span");
        HostCompiler.run(List.of("g++", "-std=c++17", "-O1", "-Wall", "-Werror", "-I", KERNELS.toAbsolutePath().toString(), "-o",
                exe.toString(), src.toString()), null);
        Random rnd = new Random(20261129);
        double[] values = {10752, 29696, 1e5, 5e5, 1.5e6};
        StringBuilder input = new StringBuilder();
        List<double[]> expected = new ArrayList<>();
        for (int c = 0; c < 600; c++) {
            int sms = 1 + rnd.nextInt(rnd.nextBoolean() ? 8 : 140);
            int np = rnd.nextInt(6) == 0 ? 0 : 1 + rnd.nextInt(rnd.nextBoolean() ? 40 : 700);
            int nd = np > 0 && rnd.nextInt(6) == 0 ? 0 : 1 + rnd.nextInt(rnd.nextBoolean() ? 40 : 1400);
            int kind = rnd.nextInt(3);  // 0: any work; 1: a few values; 2: all alike
            double[] pre = new double[np];
            double[] dec = new double[nd];
            for (int i = 0; i < np; i++) pre[i] = kind == 0 ? 1000 + rnd.nextDouble() * 2e6 : kind == 1 ? values[rnd.nextInt(5)] : values[0];
            for (int i = 0; i < nd; i++) dec[i] = kind == 0 ? 1000 + rnd.nextDouble() * 2e5 : kind == 1 ? values[rnd.nextInt(3)] : values[1];
            input.append(sms).append(' ').append(np).append(' ').append(nd);
            for (double w : pre) input.append(' ').append(Double.toHexString(w));
            for (double w : dec) input.append(' ').append(Double.toHexString(w));
            input.append('\n');
            expected.add(new double[] {PodTicketReplay.spanUs(pre, dec, sms, PodPlan.PROPORTIONAL),
                PodTicketReplay.spanUs(pre, dec, sms, PodPlan.FIFTY_FIFTY)});
        }
        Path launches = dir.resolve("launches.txt");
        Files.writeString(launches, input);
        List<String> actual = HostCompiler.run(List.of(exe.toString()), launches).lines().toList();
        assertEquals(expected.size(), actual.size(), "one line per launch");
        for (int i = 0; i < expected.size(); i++) {
            String[] spans = actual.get(i).split(" ");
            String launch = String.join(" ", List.of(input.toString().lines().skip(i).findFirst().orElse("").split(" ", 4)).subList(0, 3))
                    + " (SMs, prefill CTAs, decode CTAs)";
            assertEquals(Double.parseDouble(spans[0]), expected.get(i)[0], "launch " + i + ", proportional: " + launch);
            assertEquals(Double.parseDouble(spans[1]), expected.get(i)[1], "launch " + i + ", fifty-fifty: " + launch);
        }
    }

    /**
     * The span rule on the H200's 132 SMs (Llama-3-8B heads), decodes at 16,896 keys: a chunk of 512
     * after 15,872 keys beside 20 decodes would end on one prefill CTA per SM walking 16K keys alone
     * (traced: 517 us, 475 split in two), so it is split; after 8,192 keys beside 30 decodes, and
     * after 15,872 beside 48, the decode outlasts the prefill CTAs and they stay whole. Beside 8
     * decodes (fewer units than SMs) the limited rule splits in two by itself. Under fifty-fifty
     * tickets the rule stays out (its splits measured 0.88x there).
     */
    @Test
    void theSpanRuleSplitsOnlyWhereOnePrefillCtaWouldOutlastTheLaunch() {
        assertEquals(2, servingStep(15872, 20, PodPlan.AUTO).prefill().maxSplits());
        assertEquals(2, servingStep(15872, 20, PodPlan.PROPORTIONAL).prefill().maxSplits());
        assertEquals(1, servingStep(15872, 20, PodPlan.FIFTY_FIFTY).prefill().maxSplits(), "proportional tickets only");
        assertEquals(1, servingStep(8192, 30, PodPlan.AUTO).prefill().maxSplits());
        assertEquals(1, servingStep(15872, 48, PodPlan.AUTO).prefill().maxSplits());
        assertEquals(2, servingStep(15872, 8, PodPlan.AUTO).prefill().maxSplits(), "the limited rule's own two splits");
    }

    private static PodPlan servingStep(int prefix, int decodes, int policy) {
        int page = 16;
        int[] qo = new int[decodes + 2];
        int[] kv = new int[decodes + 2];
        int[] last = new int[decodes + 1];
        qo[1] = 512;
        kv[1] = (prefix + 512) / page;
        last[0] = page;
        for (int r = 1; r <= decodes; r++) {
            qo[r + 1] = qo[r] + 1;
            kv[r + 1] = kv[r] + 16896 / page;
            last[r] = page;
        }
        return PodPlan.plan(qo, kv, last, 1, decodes, page, 32, 8, 128, 132, policy, 0, PodPlan.AUTO_CTAS);
    }

    /**
     * One long decode beside a chunk: the standalone rule already takes 16 splits over 8 CTAs a split
     * (128 of 132 SMs), and the fused plan's one-split-more rule made 17.
     */
    @Test
    void theWaveFillingSplitStopsAtTheCap() {
        int page = 16;
        for (int keys : new int[] {8704, 17408, 131072}) {
            int decodePages = (keys + page - 1) / page;
            int[] qo = {0, 512, 513};
            int[] kv = {0, 1024 / page, 1024 / page + decodePages};
            int[] last = {page, keys - (decodePages - 1) * page};
            assertEquals(AttentionPlan.MAX_SPLITS, AttentionPlan.decode(qo, kv, last, 1, 1, page, 32, 8, 128, 132, 0).maxSplits(),
                    "the standalone plan is at the cap already");
            PodPlan pod = PodPlan.plan(qo, kv, last, 1, 1, page, 32, 8, 128, 132, PodPlan.PROPORTIONAL, 0, 2);
            assertTrue(pod.decode().maxSplits() <= AttentionPlan.MAX_SPLITS, keys + " keys: " + pod.decode());
        }
    }

    private static void show(StringBuilder b, String tag, AttentionPlan p) {
        b.append(' ').append(tag).append(' ').append(p.kvChunkSize()).append(' ').append(p.maxSplits()).append(' ').append(p.rows())
                .append(' ').append(p.gridX()).append(' ').append(p.gridY()).append(' ').append(p.partialOFloats()).append(' ')
                .append(p.partialLseFloats());
        for (int w : p.workItems()) b.append(' ').append(w);
    }
}
