package dev.podserve.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * What the decode split rule (AttentionPlan.chooseSplit, attention_plan.h decode_time_us) decides
 * on batches it was fitted to: Llama-3-8B heads (32 / 8, d 128, page 16), 132 SMs, every split
 * count timed on an H200 (bench/results/decode-split-h200-2026-11-29.*). Long CTAs that would end
 * on a partial round, or leave most slots idle, are split further; a launch that fills the slots in
 * one round, or queues several rounds deep, is not. PodPlanParityTest keeps the header and this port
 * equal; this test pins the choices.
 */
class DecodeSplitRuleTest {

    private static final int SMS = 132;

    /** CTAs of the standalone decode of {@code n} requests of {@code keys} keys each. */
    private static int ctas(int n, int keys) {
        int[] qo = new int[n + 1], kv = new int[n + 1], last = new int[n];
        int pages = (keys + 15) / 16;
        for (int i = 0; i < n; i++) {
            qo[i + 1] = i + 1;
            kv[i + 1] = kv[i] + pages;
            last[i] = keys - (pages - 1) * 16;
        }
        AttentionPlan p = AttentionPlan.decode(qo, kv, last, 0, n, 16, 32, 8, 128, SMS, 0);
        return p.gridX() * p.gridY();
    }

    @Test
    void launchesEndingOnAPartialRoundOfLongCtasAreSplitFurther() {
        // 39 at 16K: 312 CTAs unsplit fill the 264 slots and leave 48 to run alone, 0.715 ms;
        // five splits 0.602 ms (the best, four, 0.601).
        assertThat(ctas(39, 16384)).isEqualTo(1560);
        // 20 at 16K: 0.373 ms in two splits (320 CTAs), 0.323 in three.
        assertThat(ctas(20, 16384)).isEqualTo(480);
        assertThat(ctas(1, 16384)).isEqualTo(128);  // one request: 16 splits
    }

    @Test
    void launchesThatRunInOneRoundOrQueueDeeplyKeepTheirPlan() {
        assertThat(ctas(30, 16384)).isEqualTo(240);   // 240 CTAs on 264 slots: all at once
        assertThat(ctas(48, 1024)).isEqualTo(384);    // short: a split's merge costs more than the tail (0.060 vs 0.067 ms)
        assertThat(ctas(128, 8192)).isEqualTo(1024);  // four rounds: the tail is short
    }
}
