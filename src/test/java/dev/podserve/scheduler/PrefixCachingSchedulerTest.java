package dev.podserve.scheduler;

import static dev.podserve.scheduler.SchedulerHarness.prompt;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

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

    /**
     * Prompt tokens scheduled for {@code copies} identical 40-token prompts and one other behind them,
     * until each has its first token; {@code steps[0]} gets how many steps that took.
     */
    private static long promptTokensForCopies(boolean prefixCaching, int copies, int[] steps) {
        SchedulerHarness h = new SchedulerHarness(new SchedulerSettings(96, 8, 16, 256), 64, 4, prefixCaching);
        int[] text = prompt(40, 7);
        List<Sequence> all = new ArrayList<>();
        for (int i = 0; i < copies; i++) {
            all.add(h.submit("choice" + i, text));
        }
        Sequence other = h.submit("other", prompt(12, 900));
        all.add(other);
        long prompts = 0;
        steps[0] = 0;
        while (all.stream().anyMatch(s -> s.numOutputTokens() == 0)) {
            assertThat(steps[0]).isLessThan(20);
            List<Sequence> prefilling = all.stream().filter(s -> s.numOutputTokens() == 0).toList();
            SchedulerOutput out = h.runStep();
            if (steps[0]++ == 0) {
                assertThat(tokensOf(out, all.get(0))).isEqualTo(16);
                for (int i = 1; i < copies; i++) {
                    assertThat(tokensOf(out, all.get(i))).as("choice %d", i).isEqualTo(prefixCaching ? 0 : 16);
                }
                assertThat(tokensOf(out, other)).as("passes the copies that wait").isEqualTo(12);
            }
            for (ScheduledSequence e : out.scheduled()) {
                if (prefilling.contains(e.sequence())) prompts += e.numNewTokens();
            }
        }
        return prompts;
    }

    /**
     * The n choices of one request arrive together: the first computes the prompt while the others
     * wait in their places, then each starts after the 36 tokens of full pages the first registered,
     * computing only the page with its last token. An unrelated prompt behind them is not held up.
     */
    @Test
    void identicalPromptsArrivingTogetherComputeTheirSharedPagesOnce() {
        int[] stepsShared = new int[1];
        int[] stepsAlone = new int[1];
        long shared = promptTokensForCopies(true, 4, stepsShared);
        long alone = promptTokensForCopies(false, 4, stepsAlone);
        assertThat(alone).isEqualTo(4 * 40 + 12);
        assertThat(shared).isEqualTo(40 + 3 * 4 + 12);
        assertThat(stepsAlone[0]).isEqualTo(3);
        assertThat(stepsShared[0]).as("the copies' first tokens come one step after the first's").isEqualTo(4);
    }

    /**
     * A prompt waits only for pages with its own tokens under its own salt: one that differs from
     * page 2 on waits until pages 0 and 1 are registered, then computes the rest itself; another
     * salt never waits.
     */
    @Test
    void aPromptWaitsOnlyForThePagesItShares() {
        SchedulerHarness h = new SchedulerHarness(new SchedulerSettings(64, 8, 4, 256), 64, 4, true);
        int[] text = prompt(40, 7);
        int[] diverging = Arrays.copyOf(text, 40);
        diverging[9] = 5_000;
        Sequence a = h.submit("a", text);
        Sequence b = h.submit("b", diverging);
        Sequence c = h.submitting("c", text, false, "tenant");
        SchedulerOutput first = h.runStep();
        assertThat(tokensOf(first, a)).isEqualTo(4);
        assertThat(tokensOf(first, b)).as("its page 0 is a's").isZero();
        assertThat(tokensOf(first, c)).as("another salt").isEqualTo(4);
        SchedulerOutput second = h.runStep();
        assertThat(tokensOf(second, b)).as("its page 1 is a's too").isZero();
        SchedulerOutput third = h.runStep();
        assertThat(b.numCachedTokens()).isEqualTo(8);
        assertThat(tokensOf(third, b)).as("page 2 differs: computed beside a").isEqualTo(4);
        assertThat(tokensOf(third, a)).isEqualTo(4);
    }
}
