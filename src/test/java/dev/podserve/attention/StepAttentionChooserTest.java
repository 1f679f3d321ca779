package dev.podserve.attention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Random;

import org.junit.jupiter.api.Test;

class StepAttentionChooserTest {

    private static final int HQ = 32, HKV = 8, D = 128, PAGE = 16;

    /** A batch of prefill chunks (chunk rows ending at context ctx) then decodes at the given contexts. */
    private static HybridBatch batch(int[][] prefills, int... decodeContexts) {
        int r = prefills.length + decodeContexts.length;
        int[] qo = new int[r + 1];
        int[] kv = new int[r + 1];
        int[] last = new int[r];
        int[] ctx = new int[r];
        for (int i = 0; i < r; i++) {
            int q = i < prefills.length ? prefills[i][0] : 1;
            ctx[i] = i < prefills.length ? prefills[i][1] : decodeContexts[i - prefills.length];
            qo[i + 1] = qo[i] + q;
            int pages = (ctx[i] + PAGE - 1) / PAGE;
            kv[i + 1] = kv[i] + pages;
            last[i] = ctx[i] - (pages - 1) * PAGE;
        }
        int[] positions = new int[qo[r]];
        for (int i = 0; i < r; i++) {
            for (int t = qo[i]; t < qo[i + 1]; t++) positions[t] = ctx[i] - (qo[i + 1] - t);
        }
        int[] pagesList = new int[kv[r]];
        for (int i = 0; i < pagesList.length; i++) pagesList[i] = i;
        return new HybridBatch(new int[qo[r]], positions, qo, kv, pagesList, last, new int[0], prefills.length,
                decodeContexts.length, PAGE);
    }

    private static StepAttentionChooser chooser(AttentionMode mode, SmPolicy policy) {
        return new StepAttentionChooser(mode, policy, HQ, HKV, D);
    }

    @Test
    void stepsOfOnePhaseTakeTheStandaloneKernel() {
        for (AttentionMode mode : AttentionMode.values()) {
            for (SmPolicy policy : SmPolicy.values()) {
                StepAttentionChooser c = chooser(mode, policy);
                assertThat(c.choose(batch(new int[][] {{512, 4096}}))).isEqualTo(StepAttention.SERIAL);
                assertThat(c.choose(batch(new int[0][], 100, 9000))).isEqualTo(StepAttention.SERIAL);
            }
        }
    }

    @Test
    void hybridStepsRunAsConfiguredUnlessAuto() {
        HybridBatch b = batch(new int[][] {{1024, 8192}}, 4096, 4096, 4096);
        assertThat(chooser(AttentionMode.SERIAL, SmPolicy.AUTO).choose(b).mode()).isEqualTo(AttentionMode.SERIAL);
        assertThat(chooser(AttentionMode.STREAMS, SmPolicy.AUTO).choose(b).mode()).isEqualTo(AttentionMode.STREAMS);
        for (SmPolicy fixed : new SmPolicy[] {SmPolicy.PROPORTIONAL, SmPolicy.FIFTY_FIFTY, SmPolicy.STATIC}) {
            assertThat(chooser(AttentionMode.POD, fixed).choose(b)).isEqualTo(new StepAttention(AttentionMode.POD, fixed));
        }
        // A fixed policy is obeyed even where auto would not fuse.
        HybridBatch heavy = batch(new int[][] {{4096, 8192}}, 4096, 4096);
        assertThat(chooser(AttentionMode.POD, SmPolicy.AUTO).choose(heavy).mode()).isEqualTo(AttentionMode.STREAMS);
        assertThat(chooser(AttentionMode.POD, SmPolicy.FIFTY_FIFTY).choose(heavy).mode()).isEqualTo(AttentionMode.POD);
    }

    @Test
    void autoFusesUnlessThePrefillIsAnOverwhelmingShareOfTheStep() {
        StepAttentionChooser auto = chooser(AttentionMode.POD, SmPolicy.AUTO);
        // Balanced: a 1024-row chunk at 13K beside 30 decodes at 16K.
        int[] decodes = new int[30];
        java.util.Arrays.fill(decodes, 16384);
        assertThat(auto.choose(batch(new int[][] {{1024, 13312}}, decodes)))
                .isEqualTo(new StepAttention(AttentionMode.POD, SmPolicy.PROPORTIONAL));
        // A 16-token prompt beside 64 decodes at 16K (a share near 0): still fused.
        int[] many = new int[64];
        java.util.Arrays.fill(many, 16384);
        assertThat(auto.choose(batch(new int[][] {{16, 16}}, many)))
                .isEqualTo(new StepAttention(AttentionMode.POD, SmPolicy.PROPORTIONAL));
        // A 4K chunk after 4K tokens beside 4 decodes at 4K: the prefill is ~99% of the work and
        // the decode ~23 us.
        assertThat(auto.choose(batch(new int[][] {{4096, 8192}}, 4096, 4096, 4096, 4096)))
                .isEqualTo(new StepAttention(AttentionMode.STREAMS, SmPolicy.PROPORTIONAL));
        // A 2K chunk at 14K beside 27 decodes at 16K (~600 us): prefill-heavy, still fused.
        int[] grid = new int[27];
        java.util.Arrays.fill(grid, 16384);
        assertThat(auto.choose(batch(new int[][] {{2048, 16384}}, grid)))
                .isEqualTo(new StepAttention(AttentionMode.POD, SmPolicy.PROPORTIONAL));
    }

    /** The decision equals the share rule on the estimates, computed here from the formulas by hand. */
    @Test
    void autoFollowsTheEstimatedPrefillShareOnRandomBatches() {
        StepAttentionChooser auto = chooser(AttentionMode.POD, SmPolicy.AUTO);
        Random rnd = new Random(7);
        java.util.Map<AttentionMode, Integer> counts = new java.util.EnumMap<>(AttentionMode.class);
        for (int i = 0; i < 500; i++) {
            int np = 1 + rnd.nextInt(4);
            // Half the batches carry one to three decodes, where the small-decode rule can apply.
            int nd = rnd.nextBoolean() ? 1 + rnd.nextInt(3) : 1 + rnd.nextInt(200);
            int[][] prefills = new int[np][];
            double flops = 0;
            for (int p = 0; p < np; p++) {
                int q = 1 + rnd.nextInt(1024);
                int ctx = q + rnd.nextInt(5000);
                prefills[p] = new int[] {q, ctx};
                flops += 4.0 * HQ * D * ((double) q * (ctx - q) + q * (q + 1) / 2.0);
            }
            int[] decodes = new int[nd];
            double bytes = 0;
            for (int d = 0; d < nd; d++) {
                decodes[d] = 1 + rnd.nextInt(16384);
                bytes += 4.0 * HKV * D * decodes[d] + 4.0 * HQ * D;
            }
            double prefillUs = flops / 320e6;
            double decodeUs = bytes / 2.9e6;
            double share = prefillUs / (prefillUs + decodeUs);
            // Hybrid batches are fused unless the prefill is over 65% of the estimate and the decode
            // under 50 us, which run on two streams; a hybrid batch never falls back to the serial
            // pair (measured no worse fused at any share).
            AttentionMode expected = share <= 0.65 || decodeUs >= 50 ? AttentionMode.POD : AttentionMode.STREAMS;
            StepAttention got = auto.choose(batch(prefills, decodes));
            assertThat(got.mode()).as("batch %d", i).isEqualTo(expected);
            counts.merge(expected, 1, Integer::sum);
        }
        assertThat(counts).containsOnlyKeys(AttentionMode.POD, AttentionMode.STREAMS);
    }

    @Test
    void policiesRoundTripTheirCodesAndSpellings() {
        for (SmPolicy p : SmPolicy.values()) {
            assertThat(SmPolicy.ofCode(p.code())).isEqualTo(p);
            assertThat(SmPolicy.of(p.label())).isEqualTo(p);
        }
        assertThat(SmPolicy.of("fifty-fifty")).isEqualTo(SmPolicy.FIFTY_FIFTY);
        assertThatThrownBy(() -> SmPolicy.ofCode(9)).isInstanceOf(IllegalArgumentException.class);
        assertThat(new StepAttention(AttentionMode.SERIAL, SmPolicy.STATIC).policyLabel()).isEqualTo("none");
        assertThat(new StepAttention(AttentionMode.POD, SmPolicy.FIFTY_FIFTY).policyLabel()).isEqualTo("fifty-fifty");
    }
}
