package dev.podserve.scheduler;

import static dev.podserve.scheduler.SchedulerHarness.prompt;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;

import org.junit.jupiter.api.Test;

/** The scheduler with prefix caching: where admitted sequences start, what they count, whom they share with. */
class PrefixCachingSchedulerTest {

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static int tokensOf(SchedulerOutput out, Sequence s) {
        return out.scheduled().stream().filter(e -> e.sequence() == s).mapToInt(ScheduledSequence::numNewTokens).sum();
    }

    /**
     * x's four pages are idle and registered; a decodes; b starts with x's 16 tokens. Adopting the
     * idle pages takes four of the free ones, so headroom must count them: b needs its new page, the
     * four idle ones and a's next page, six, and five free pages are one short.
     */
    @Test
    void headroomCountsIdleCachedPagesAmongThoseAPromptTakes() {
        boolean[] admitted = new boolean[2];
        for (int extra = 0; extra < 2; extra++) {
            SchedulerHarness h = new SchedulerHarness(new SchedulerSettings(16, 4, 16, 64), 7 + extra, 4, true);
            Sequence x = h.submit("x", prompt(16, 100));
            h.runStep();
            h.finish(x);
            assertThat(h.kv.numIdleBlocks()).isEqualTo(4);
            Sequence a = h.submit("a", prompt(7, 500));
            h.runStep();
            assertThat(a.numTokens()).isEqualTo(8);
            Sequence b = h.submit("b", concat(prompt(16, 100), prompt(4, 900)));
            SchedulerOutput out = h.runStep();
            admitted[extra] = tokensOf(out, b) > 0;
            if (admitted[extra]) {
                assertThat(tokensOf(out, b)).isEqualTo(4);
                assertThat(b.numCachedTokens()).isEqualTo(16);
            }
        }
        assertThat(admitted).containsExactly(false, true);
    }

    @Test
    void aPreemptedSequenceComesBackOnItsOwnCachedPagesWithoutCountingAsAHit() {
        // Greedy admission packs 6 pages of 4 tokens with two 8-token prompts; their decodes then collide.
        SchedulerHarness h = new SchedulerHarness(new SchedulerSettings(16, 4, 16, 64, KvAdmission.GREEDY), 6, 4, true);
        Sequence a = h.submit("a", prompt(8, 0));
        Sequence b = h.submit("b", prompt(8, 100));
        int restart = -1;
        for (int step = 0; step < 40 && restart < 0; step++) {
            boolean waiting = b.status() == SequenceStatus.WAITING && b.numPreemptions() > 0;
            SchedulerOutput out = h.runStep();
            if (waiting && tokensOf(out, b) > 0) {
                restart = b.numComputedTokens() - tokensOf(out, b);
            }
            if (a.numOutputTokens() == 12) {
                h.finish(a);
            }
        }
        assertThat(h.numPreemptionsSeen).isPositive();
        // It restarted after whole pages of its own (the harness checked they hold exactly its tokens).
        assertThat(restart).isPositive();
        assertThat(restart % 4).isZero();
        assertThat(b.numCachedTokens()).as("counted at the first admission only").isZero();
        assertThat(h.scheduler.prefixCacheHitTokens()).isZero();
        assertThat(h.scheduler.prefixCacheQueriedTokens()).isEqualTo(16);
    }

    @Test
    void aSaltedSequenceSharesPagesOnlyWithTheSameSalt() {
        SchedulerHarness h = new SchedulerHarness(new SchedulerSettings(64, 8, 64, 256), 64, 4, true);
        int[] text = prompt(40, 7);
        Sequence plain = h.submit("plain", text);
        h.runStep();
        Sequence salted = h.submitting("salted", text, false, "tenant-a");
        h.runStep();
        assertThat(salted.numCachedTokens()).as("an unsalted prompt's pages").isZero();
        Sequence sameSalt = h.submitting("same", text, false, "tenant-a");
        Sequence otherSalt = h.submitting("other", text, false, "tenant-b");
        Sequence unsalted = h.submit("unsalted", text);
        h.runStep();
        assertThat(sameSalt.numCachedTokens()).isEqualTo(36);
        assertThat(otherSalt.numCachedTokens()).isZero();
        assertThat(unsalted.numCachedTokens()).isEqualTo(36);
        assertThat(plain.numCachedTokens()).isZero();
    }
}
