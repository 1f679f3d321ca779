package dev.podserve.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * auto's ticket replay: the event-queue replay against a slow one that recomputes every CTA's
 * rate at every event, on random launches; and the choice it makes at serving shapes measured on
 * the H200 (pod_bench, ../bench/results/pod-policy-replay-h200-2026-11-29.*).
 */
class PodTicketReplayTest {

    @Test
    void theReplayEqualsAReplayThatRecomputesEveryRateAtEveryEvent() {
        long seed = Long.getLong("seed", System.nanoTime());
        Random rnd = new Random(seed);
        for (int trial = 0; trial < 300; trial++) {
            int sms = 1 + rnd.nextInt(9);
            double[] pre = works(rnd, rnd.nextInt(4) == 0 ? 0 : 1 + rnd.nextInt(40));
            double[] dec = works(rnd, rnd.nextInt(4) == 0 && pre.length > 0 ? 0 : 1 + rnd.nextInt(120));
            for (int policy : new int[] {PodPlan.PROPORTIONAL, PodPlan.FIFTY_FIFTY}) {
                double fast = PodTicketReplay.spanUs(pre, dec, sms, policy);
                double slow = slowSpanUs(pre, dec, sms, policy);
                assertEquals(slow, fast, 1e-6 * slow, "seed " + seed + " trial " + trial + " policy " + policy);
            }
        }
    }

    @Test
    void ticketsMapToPhasesAsTheKernelMapsThem() {
        // 192 prefill beside 576 decode CTAs: one prefill ticket in four on every SM.
        int[] proportional = new int[8];
        for (int t = 0; t < 8; t++) proportional[t] = PodTicketReplay.ticketOp(PodPlan.PROPORTIONAL, t, 192, 576);
        assertEquals("[0, 1, 1, 1, 0, 1, 1, 1]", Arrays.toString(proportional));
        // More prefill than decode CTAs: a decode ticket closes each cycle of four.
        assertEquals(0, PodTicketReplay.ticketOp(PodPlan.PROPORTIONAL, 2, 30, 10));
        assertEquals(1, PodTicketReplay.ticketOp(PodPlan.PROPORTIONAL, 3, 30, 10));
        assertEquals(0, PodTicketReplay.ticketOp(PodPlan.FIFTY_FIFTY, 4, 192, 576));
        assertEquals(1, PodTicketReplay.ticketOp(PodPlan.FIFTY_FIFTY, 5, 192, 576));
        assertEquals(1, PodTicketReplay.ticketOp(PodPlan.FIFTY_FIFTY, 0, 0, 576));
    }

    /**
     * H200, Llama-3-8B heads, decodes at 16,896 keys: a chunk of 768 after 8K-12K keys (192 prefill
     * CTAs walking the context) measured 1.10-1.19x faster on fifty-fifty tickets; a chunk of 512
     * (split in two, short CTAs) and the sweep's large decode batches measured faster on
     * proportional ones, and a chunk of 768 at the prompt's start too.
     */
    @Test
    void autoTakesFiftyFiftyWhereLongPrefillCtasWouldStartLate() {
        assertEquals(PodPlan.FIFTY_FIFTY, step(768, 12288, 16, 16896).policy());
        assertEquals(PodPlan.FIFTY_FIFTY, step(768, 8192, 24, 16896).policy());
        assertEquals(PodPlan.FIFTY_FIFTY, step(768, 12288, 8, 16896).policy());
        assertEquals(PodPlan.PROPORTIONAL, step(768, 0, 16, 16896).policy());
        assertEquals(PodPlan.PROPORTIONAL, step(768, 4096, 24, 16896).policy());
        assertEquals(PodPlan.PROPORTIONAL, step(512, 8192, 16, 16896).policy());
        assertEquals(PodPlan.PROPORTIONAL, step(1024, 13312, 54, 16384).policy());
        // A fixed policy is taken as given.
        assertEquals(PodPlan.PROPORTIONAL, plan(step(768, 12288, 16, 16896), PodPlan.PROPORTIONAL).policy());
    }

    private static double[] works(Random rnd, int n) {
        double[] w = new double[n];
        for (int i = 0; i < n; i++) w[i] = 1000 + rnd.nextDouble() * (rnd.nextBoolean() ? 2e6 : 2e5);
        return w;
    }

    /** The fused launch of one chunk after {@code prefix} keys beside {@code decodes} decodes, auto policy. */
    private static Step step(int chunk, int prefix, int decodes, int context) {
        return new Step(chunk, prefix, decodes, context);
    }

    private record Step(int chunk, int prefix, int decodes, int context) {
        int policy() {
            return plan(this, PodPlan.AUTO).policy();
        }
    }

    private static PodPlan plan(Step s, int policy) {
        int page = 16;
        int[] qo = new int[s.decodes() + 2];
        int[] kv = new int[s.decodes() + 2];
        int[] last = new int[s.decodes() + 1];
        qo[1] = s.chunk();
        int pages = (s.prefix() + s.chunk() + page - 1) / page;
        kv[1] = pages;
        last[0] = s.prefix() + s.chunk() - (pages - 1) * page;
        int decodePages = (s.context() + page - 1) / page;
        for (int r = 1; r <= s.decodes(); r++) {
            qo[r + 1] = qo[r] + 1;
            kv[r + 1] = kv[r] + decodePages;
            last[r] = s.context() - (decodePages - 1) * page;
        }
        return PodPlan.plan(qo, kv, last, 1, s.decodes(), page, 32, 8, 128, 132, policy, 0, PodPlan.AUTO_CTAS);
    }

    /**
     * The slow replay: every event recomputes every running CTA's rate from scratch (prefill by
     * its SM-mate, decode by how many decode CTAs run) and advances all of them to the earliest end.
     */
    private static double slowSpanUs(double[] pre, double[] dec, int sms, int policy) {
        int slots = 2 * sms;
        int[] op = new int[slots];
        double[] left = new double[slots];
        Arrays.fill(op, -1);
        int[] tickets = new int[sms];
        int[] next = new int[2];
        int launched = 0;
        int total = pre.length + dec.length;
        double t = 0;
        int[] order = new int[slots];
        for (int i = 0; i < slots; i++) order[i] = i < sms ? 2 * i : 2 * (i - sms) + 1;
        for (int s : order) {
            if (launched == total) break;
            launched++;
            int o = PodTicketReplay.ticketOp(policy, tickets[s >> 1]++, pre.length, dec.length);
            if (next[o] >= (o == 0 ? pre.length : dec.length)) o ^= 1;
            op[s] = o;
            left[s] = (o == 0 ? pre : dec)[next[o]++];
        }
        while (true) {
            int decoding = 0;
            for (int o : op) if (o == 1) decoding++;
            double[] rate = new double[slots];
            int first = -1;
            double soonest = Double.POSITIVE_INFINITY;
            for (int s = 0; s < slots; s++) {
                if (op[s] < 0) continue;
                int mate = op[s ^ 1];
                rate[s] = op[s] == 1
                        ? Math.min(PodSpanRule.DECODE_CTA_KEY_DIMS_PER_US, PodTicketReplay.CARD_DECODE_KEY_DIMS_PER_US / decoding)
                        : mate < 0 ? PodTicketReplay.LONE_PREFILL_KEY_DIMS_PER_US
                        : mate == 0 ? PodTicketReplay.PAIRED_PREFILL_KEY_DIMS_PER_US : PodSpanRule.PREFILL_CTA_KEY_DIMS_PER_US;
                double end = left[s] / rate[s];
                if (end < soonest) {
                    soonest = end;
                    first = s;
                }
            }
            if (first < 0) return t;
            t += soonest;
            for (int s = 0; s < slots; s++) if (op[s] >= 0) left[s] -= rate[s] * soonest;
            op[first] = -1;
            if (launched < total) {
                launched++;
                int o = PodTicketReplay.ticketOp(policy, tickets[first >> 1]++, pre.length, dec.length);
                if (next[o] >= (o == 0 ? pre.length : dec.length)) o ^= 1;
                op[first] = o;
                left[first] = (o == 0 ? pre : dec)[next[o]++];
            }
        }
    }
}
