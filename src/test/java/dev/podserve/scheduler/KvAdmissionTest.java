package dev.podserve.scheduler;

import static dev.podserve.scheduler.SchedulerHarness.prompt;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

/**
 * What {@link KvAdmission#HEADROOM} buys over first-chunk admission when the KV pool, not
 * {@code maxNumSeqs}, limits how many long prompts run: the paper's offline case in miniature.
 */
class KvAdmissionTest {

    /** Result of one offline run: every prompt sent at once, each finishing after a fixed output. */
    private record Run(long scheduledTokens, long idealTokens, int preemptions, int prefillsEvicted, int steps) {
    }

    private static Run offline(KvAdmission admission, int numPrompts, int promptLen, int outputLen, int numBlocks) {
        // Budget 64 and chunks of 64 over 16-token pages; maxNumSeqs far above what the pool holds.
        SchedulerHarness h = new SchedulerHarness(new SchedulerSettings(64, 48, 64, 4096, admission), numBlocks, 16);
        List<Sequence> all = new ArrayList<>();
        for (int i = 0; i < numPrompts; i++) {
            all.add(h.submit("p" + i, prompt(promptLen, 1000 * i)));
        }
        int steps = 0;
        while (h.numLive() > 0) {
            steps++;
            SchedulerOutput out = h.schedule();
            for (Sequence s : h.complete(out, () -> 7)) {
                if (s.numOutputTokens() == outputLen) {
                    h.finish(s);
                }
            }
            assertThat(steps).as("drains").isLessThan(100_000);
        }
        h.assertDrained();
        // Each sequence computes its prompt and every output token but the last.
        long ideal = (long) numPrompts * (promptLen + outputLen - 1);
        return new Run(h.scheduledTokens, ideal, h.numPreemptionsSeen, h.numPrefillsEvicted, steps);
    }

    @Test
    void headroomAdmissionNeverEvictsAPromptBeforeItIsPrefilledWhereFirstChunkAdmissionDoes() {
        // 40 prompts of 512 tokens with 256 out. A prompt takes 8 steps to prefill and 256 to decode, so
        // up to 32 could run at once, but the pool (960 pages, 15,360 tokens) holds 20 at their full
        // 768: the running decodes grow into the pages the newest prompt is being prefilled into.
        Run greedy = offline(KvAdmission.GREEDY, 40, 512, 256, 960);
        Run headroom = offline(KvAdmission.HEADROOM, 40, 512, 256, 960);

        assertThat(greedy.prefillsEvicted()).as("first-chunk admission evicts half-prefilled prompts").isPositive();
        assertThat(headroom.prefillsEvicted()).isZero();
        // Admission cannot know how far the decodes will grow after that, so a decode may still be
        // evicted later; the work recomputed is a fraction of what first-chunk admission recomputes.
        long greedyWaste = greedy.scheduledTokens() - greedy.idealTokens();
        long headroomWaste = headroom.scheduledTokens() - headroom.idealTokens();
        assertThat(greedyWaste).isGreaterThan(1000);
        assertThat(headroomWaste).isLessThan(greedyWaste / 2);
        assertThat(headroom.preemptions()).isLessThan(greedy.preemptions());
    }

    @Test
    void headroomCountsTheWholePromptTheRunningPromptsAndTheirGrowthUntilThePromptIsPrefilled() {
        // Pages of 4 tokens, budget 16, chunks of 8. a: a 5-token prompt, decoding. Then b, 20 tokens.
        int[] admittedAt = new int[2];
        for (int spare = 0; spare < 2; spare++) {
            SchedulerHarness h = new SchedulerHarness(new SchedulerSettings(16, 4, 8, 64), 0 + pool(spare), 4);
            Sequence a = h.submit("a", prompt(5, 0));
            h.runStep();
            assertThat(a.numTokens()).isEqualTo(6);
            Sequence b = h.submit("b", prompt(20, 100));
            SchedulerOutput out = h.runStep();
            admittedAt[spare] = b.status() == SequenceStatus.RUNNING ? 1 : 0;
            assertThat(out.scheduled()).extracting(ScheduledSequence::sequence).contains(a);
        }
        // After a's decode (6 tokens, 2 pages), b needs: 5 pages for its prompt; a grows one token a
        // step for 1 + ceil(12 / 8) = 3 steps (b's own chunks are the longer count), to 9 tokens,
        // 3 pages: one more. So 6 free pages admit b and 5 do not.
        assertThat(admittedAt).containsExactly(0, 1);
    }

    /** A pool that leaves 5 + spare pages free once a holds its 2. */
    private static int pool(int spare) {
        return 2 + 5 + spare;
    }

    @Test
    void aLonePromptStartsWhateverItsLength() {
        // Nothing running: the first chunk fitting is enough, since the pool holds the whole prompt.
        SchedulerHarness h = new SchedulerHarness(new SchedulerSettings(8, 4, 8, 64), 10, 4);
        Sequence a = h.submit("a", prompt(39, 0));
        SchedulerOutput out = h.runStep();
        assertThat(out.scheduled()).containsExactly(new ScheduledSequence(a, 8, false));
    }
}
