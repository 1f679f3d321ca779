package dev.podserve.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The decode split rule's busiest-SM term (AttentionPlan.chooseSplit, attention_plan.h
 * kSmStreamShare) on the decode batches it was measured on (H100, 132 SMs, Llama-3-8B heads,
 * bench/results/decode-split-h100-2026-11-27.*): equal long units just over a whole number of CTAs
 * per SM are split further, those that fill the SMs evenly or are short are not. PodPlanParityTest
 * keeps the header and this port equal; this test pins what the rule decides.
 */
class DecodeSplitRuleTest {

    private static final int SMS = 132;

    /** CTAs of the standalone decode of {@code n} requests of {@code keys} keys each (page 16, 32/8 heads, d 128). */
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
    void launchesJustOverAWholeNumberOfCtasPerSmAreSplitFurther() {
        // 22 decodes at 16K: 176 CTAs unsplit (1.33 per SM) streamed 2,697 GB/s, 352 streamed 2.0% faster.
        assertThat(ctas(22, 16384)).isEqualTo(352);
        assertThat(ctas(20, 16384)).isEqualTo(320);
        assertThat(ctas(8, 16384)).isEqualTo(256);   // 192 before (1.45 per SM), 4.1% slower
        assertThat(ctas(12, 16384)).isEqualTo(384);  // not 288 (2.18 per SM), which measured 6% slower than 192
        assertThat(ctas(20, 8192)).isEqualTo(320);
    }

    @Test
    void evenOrShortLaunchesKeepTheirPlan() {
        assertThat(ctas(30, 16384)).isEqualTo(240);  // 1.82 per SM: already at 2,930 GB/s unsplit
        assertThat(ctas(16, 16384)).isEqualTo(256);
        assertThat(ctas(16, 8192)).isEqualTo(128);   // under one CTA per SM
        assertThat(ctas(61, 8192)).isEqualTo(488);
        assertThat(ctas(20, 4096)).isEqualTo(160);   // 4K units: a split's merge costs more than the tail
        assertThat(ctas(122, 4096)).isEqualTo(976);
    }
}
