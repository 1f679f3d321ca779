package dev.podserve.scheduler;

import static dev.podserve.scheduler.SchedulerHarness.prompt;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.podserve.attention.HybridBatch;
import dev.podserve.kvcache.KvCacheManager;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class ChunkedPrefillSchedulerTest {

    private static SchedulerHarness harness(int budget, int maxSeqs, int threshold, int maxLen, int numBlocks, int blockSize) {
        return new SchedulerHarness(new SchedulerSettings(budget, maxSeqs, threshold, maxLen), numBlocks, blockSize);
    }

    /** Admission by first chunk only, which packs the pool so that the running sequences' growth must preempt. */
    private static SchedulerHarness greedyHarness(int budget, int maxSeqs, int threshold, int maxLen, int numBlocks,
                                                  int blockSize) {
        return new SchedulerHarness(new SchedulerSettings(budget, maxSeqs, threshold, maxLen, KvAdmission.GREEDY),
                numBlocks, blockSize);
    }

    private static int tokensOf(SchedulerOutput out, Sequence s) {
        for (ScheduledSequence e : out.scheduled()) {
            if (e.sequence() == s) {
                return e.numNewTokens();
            }
        }
        return 0;
    }

    @Test
    void nothingToDoGivesAnEmptyOutput() {
        SchedulerHarness h = harness(16, 4, 0, 64, 8, 4);
        SchedulerOutput out = h.scheduler.schedule();
        assertThat(out.isEmpty()).isTrue();
        assertThat(out.batch()).isNull();
        assertThat(out.scheduled()).isEmpty();
        assertThat(out.numScheduledTokens()).isZero();
        h.scheduler.onStepComplete(out);
    }

    @Test
    void shortPromptIsPrefilledInOneStepThenDecodes() {
        SchedulerHarness h = harness(64, 4, 0, 128, 32, 4);
        Sequence a = h.submit("a", prompt(10, 0));

        SchedulerOutput first = h.schedule();
        assertThat(first.scheduled()).containsExactly(new ScheduledSequence(a, 10, true));
        HybridBatch b = first.batch();
        assertThat(b.numPrefillRequests()).isEqualTo(1);
        assertThat(b.numDecodeRequests()).isZero();
        assertThat(b.positions()).containsExactly(0, 1, 2, 3, 4, 5, 6, 7, 8, 9);
        assertThat(b.tokenIds()).containsExactly(prompt(10, 0));
        assertThat(b.kvPageIndices()).containsExactly(h.kv.blocks("a"));
        assertThat(b.kvPageIndices()).hasSize(3);
        assertThat(b.kvLastPageLen()).containsExactly(2);
        assertThat(b.sampleRequests()).containsExactly(0);
        assertThat(a.status()).isEqualTo(SequenceStatus.RUNNING);
        h.complete(first, () -> 77);
        assertThat(a.numComputedTokens()).isEqualTo(10);
        assertThat(a.outputTokenIds()).containsExactly(77);

        SchedulerOutput second = h.schedule();
        assertThat(second.scheduled()).containsExactly(new ScheduledSequence(a, 1, true));
        assertThat(second.batch().numPrefillRequests()).isZero();
        assertThat(second.batch().numDecodeRequests()).isEqualTo(1);
        assertThat(second.batch().positions()).containsExactly(10);
        assertThat(second.batch().tokenIds()).containsExactly(77);
        assertThat(second.batch().kvLastPageLen()).containsExactly(3);
    }

    @Test
    void longPromptIsChunkedByTheBudgetAndChunksReproduceIt() {
        SchedulerHarness h = harness(32, 4, 0, 128, 32, 16);
        int[] p = prompt(100, 5);
        Sequence a = h.submit("a", p);
        List<Integer> chunkSizes = new ArrayList<>();
        List<Integer> fed = new ArrayList<>();
        List<Integer> positions = new ArrayList<>();
        boolean sampled = false;
        while (!sampled) {
            SchedulerOutput out = h.schedule();
            ScheduledSequence e = out.scheduled().get(0);
            chunkSizes.add(e.numNewTokens());
            for (int i = 0; i < e.numNewTokens(); i++) {
                fed.add(out.batch().tokenIds()[i]);
                positions.add(out.batch().positions()[i]);
            }
            sampled = e.sample();
            assertThat(out.batch().sampleRequests()).hasSize(sampled ? 1 : 0);
            h.complete(out, () -> 9);
        }
        assertThat(chunkSizes).containsExactly(32, 32, 32, 4);
        assertThat(fed).containsExactlyElementsOf(h.expectedTokens(a).subList(0, 100));
        for (int i = 0; i < positions.size(); i++) {
            assertThat(positions.get(i)).isEqualTo(i);
        }
        assertThat(a.numComputedTokens()).isEqualTo(100);
        assertThat(h.kv.numBlocksOf("a")).isEqualTo(7);
    }

    @Test
    void longPrefillThresholdLimitsEveryChunkEvenWithBudgetLeft() {
        SchedulerHarness h = harness(64, 4, 10, 128, 32, 4);
        Sequence a = h.submit("a", prompt(25, 0));
        Sequence b = h.submit("b", prompt(25, 100));
        int[][] expected = {{10, 10}, {10, 10}, {5, 5}};
        for (int[] step : expected) {
            SchedulerOutput out = h.runStep();
            assertThat(tokensOf(out, a)).isEqualTo(step[0]);
            assertThat(tokensOf(out, b)).isEqualTo(step[1]);
            assertThat(out.numScheduledTokens()).isLessThan(64);
        }
        assertThat(a.numOutputTokens()).isEqualTo(1);
        assertThat(b.numOutputTokens()).isEqualTo(1);
    }

    @Test
    void decodesComeFirstThenPartialPrefillsThenWaitingOnes() {
        SchedulerHarness h = harness(16, 8, 0, 128, 64, 4);
        Sequence a = h.submit("a", prompt(3, 0));
        h.runStep();
        Sequence b = h.submit("b", prompt(40, 100));

        SchedulerOutput second = h.runStep();
        assertThat(second.scheduled()).containsExactly(new ScheduledSequence(b, 15, false), new ScheduledSequence(a, 1, true));

        Sequence c = h.submit("c", prompt(5, 200));
        SchedulerOutput third = h.runStep();
        // The budget goes to the running decode and the older partial prefill; c waits.
        assertThat(third.scheduled()).containsExactly(new ScheduledSequence(b, 15, false), new ScheduledSequence(a, 1, true));
        assertThat(c.status()).isEqualTo(SequenceStatus.WAITING);

        SchedulerOutput fourth = h.runStep();
        assertThat(fourth.scheduled()).containsExactly(new ScheduledSequence(b, 10, true),
                new ScheduledSequence(c, 5, true), new ScheduledSequence(a, 1, true));
        assertThat(fourth.batch().numPrefillRequests()).isEqualTo(2);
        assertThat(fourth.batch().sampleRequests()).containsExactly(0, 1, 2);
    }

    @Test
    void singleTokenPromptGoesToTheDecodeGroup() {
        SchedulerHarness h = harness(16, 4, 0, 64, 16, 4);
        Sequence a = h.submit("a", prompt(6, 0));
        Sequence b = h.submit("b", prompt(1, 50));
        SchedulerOutput out = h.runStep();
        assertThat(out.scheduled()).containsExactly(new ScheduledSequence(a, 6, true), new ScheduledSequence(b, 1, true));
        assertThat(out.batch().numPrefillRequests()).isEqualTo(1);
        assertThat(out.batch().numDecodeRequests()).isEqualTo(1);
    }

    @Test
    void lastAdmittedPromptIsCutToTheBudgetLeftAndAOneTokenChunkIsNotSampled() {
        SchedulerHarness h = harness(8, 4, 0, 64, 16, 4);
        Sequence a = h.submit("a", prompt(7, 0));
        Sequence b = h.submit("b", prompt(5, 50));
        SchedulerOutput out = h.runStep();
        assertThat(out.scheduled()).containsExactly(new ScheduledSequence(a, 7, true), new ScheduledSequence(b, 1, false));
        assertThat(out.batch().sampleRequests()).containsExactly(0);
        SchedulerOutput next = h.runStep();
        assertThat(next.scheduled()).containsExactly(new ScheduledSequence(b, 4, true), new ScheduledSequence(a, 1, true));
    }

    @Test
    void maxNumSeqsLimitsAdmission() {
        SchedulerHarness h = harness(64, 2, 0, 64, 32, 4);
        Sequence a = h.submit("a", prompt(3, 0));
        Sequence b = h.submit("b", prompt(3, 10));
        Sequence c = h.submit("c", prompt(3, 20));
        Sequence d = h.submit("d", prompt(3, 30));
        SchedulerOutput out = h.runStep();
        assertThat(out.scheduled()).extracting(ScheduledSequence::sequence).containsExactly(a, b);
        assertThat(h.scheduler.numRunning()).isEqualTo(2);
        assertThat(h.scheduler.numWaiting()).isEqualTo(2);
        h.runStep();
        h.finish(a);
        SchedulerOutput after = h.runStep();
        assertThat(after.scheduled()).extracting(ScheduledSequence::sequence).containsExactly(c, b);
        assertThat(d.status()).isEqualTo(SequenceStatus.WAITING);
    }

    @Test
    void waitingHeadThatDoesNotFitBlocksSmallerOnesBehindIt() {
        SchedulerHarness h = harness(64, 8, 0, 32, 8, 4);
        Sequence a = h.submit("a", prompt(20, 0));
        h.runStep();
        Sequence b = h.submit("b", prompt(16, 100));
        Sequence c = h.submit("c", prompt(4, 200));
        SchedulerOutput out = h.runStep();
        // a grew a block (2 left); b needs 4, and c, which would fit, must not pass it.
        assertThat(out.scheduled()).extracting(ScheduledSequence::sequence).containsExactly(a);
        assertThat(h.kv.numFreeBlocks()).isEqualTo(2);
        assertThat(b.status()).isEqualTo(SequenceStatus.WAITING);
        assertThat(c.status()).isEqualTo(SequenceStatus.WAITING);
        h.finish(a);
        SchedulerOutput next = h.runStep();
        assertThat(next.scheduled()).extracting(ScheduledSequence::sequence).containsExactly(b, c);
    }

    @Test
    void preemptionEvictsTheNewestWhichRecomputesPromptAndOutputFromTheHeadOfTheQueue() {
        SchedulerHarness h = greedyHarness(16, 4, 0, 12, 6, 2);
        Sequence a = h.submit("a", prompt(4, 0));
        Sequence b = h.submit("b", prompt(4, 10));
        Sequence c = h.submit("c", prompt(4, 20));
        h.runStep();
        assertThat(h.kv.numFreeBlocks()).isZero();
        Sequence d = h.submit("d", prompt(2, 30));
        int[] cBlocks = h.kv.blocks("c");

        // Each decode needs a third block; a's need evicts c, the newest, whose two blocks serve a and b.
        SchedulerOutput out = h.runStep();
        assertThat(out.preempted()).containsExactly(c);
        assertThat(out.scheduled()).extracting(ScheduledSequence::sequence).containsExactly(a, b);
        assertThat(c.status()).isEqualTo(SequenceStatus.WAITING);
        assertThat(c.numComputedTokens()).isZero();
        assertThat(c.numPreemptions()).isEqualTo(1);
        assertThat(h.scheduler.numPreemptions()).isEqualTo(1);
        assertThat(h.kv.numBlocksOf("c")).isZero();
        assertThat(h.kv.blocks("a")[2]).isIn(cBlocks[0], cBlocks[1]);
        assertThat(d.status()).isEqualTo(SequenceStatus.WAITING);

        // c heads the queue: d, which would fit in a block, stays behind it.
        SchedulerOutput full = h.runStep();
        assertThat(full.scheduled()).extracting(ScheduledSequence::sequence).containsExactly(a, b);
        assertThat(d.status()).isEqualTo(SequenceStatus.WAITING);

        h.finish(a);
        h.finish(b);
        int[] cTokens = c.outputTokenIds();
        assertThat(cTokens).hasSize(1);
        SchedulerOutput readmit = h.runStep();
        assertThat(readmit.scheduled()).containsExactly(new ScheduledSequence(c, 5, true), new ScheduledSequence(d, 2, true));
        assertThat(readmit.batch().positions()).startsWith(0, 1, 2, 3, 4);
        assertThat(readmit.batch().tokenIds()).startsWith(20, 21, 22, 23, cTokens[0]);
        SchedulerOutput decode = h.runStep();
        assertThat(decode.scheduled()).extracting(ScheduledSequence::numNewTokens).containsExactly(1, 1);
        assertThat(c.numComputedTokens()).isEqualTo(6);
        h.finish(c);
        h.finish(d);
        h.assertDrained();
    }

    @Test
    void theNewestRunningSequencePreemptsItself() {
        SchedulerHarness h = greedyHarness(16, 4, 0, 8, 4, 2);
        Sequence a = h.submit("a", prompt(3, 0));
        Sequence b = h.submit("b", prompt(4, 10));
        h.runStep();
        SchedulerOutput out = h.runStep();
        assertThat(out.scheduled()).extracting(ScheduledSequence::sequence).containsExactly(a);
        assertThat(out.preempted()).containsExactly(b);
        assertThat(b.status()).isEqualTo(SequenceStatus.WAITING);
        assertThat(h.kv.numFreeBlocks()).isEqualTo(2);
    }

    @Test
    void olderPartialPrefillEvictsANewerDecodeAlreadyInTheStep() {
        SchedulerHarness h = greedyHarness(8, 4, 4, 12, 3, 4);
        Sequence a = h.submit("a", prompt(12, 0));
        Sequence b = h.submit("b", prompt(4, 100));
        SchedulerOutput first = h.runStep();
        assertThat(first.scheduled()).containsExactly(new ScheduledSequence(a, 4, false), new ScheduledSequence(b, 4, true));

        // b's decode takes the last block; a's chunk then needs one more, so b (newer) goes.
        SchedulerOutput second = h.runStep();
        assertThat(second.preempted()).containsExactly(b);
        assertThat(second.scheduled()).containsExactly(new ScheduledSequence(a, 4, false));
        assertThat(second.batch().numDecodeRequests()).isZero();

        SchedulerOutput third = h.runStep();
        assertThat(third.scheduled()).containsExactly(new ScheduledSequence(a, 4, true));
        assertThat(a.numTokens()).isEqualTo(h.scheduler.maxSequenceTokens() + 1);
        h.finish(a);

        // b recomputes its prompt and its sampled token, chunked by the threshold.
        SchedulerOutput fourth = h.runStep();
        assertThat(fourth.scheduled()).containsExactly(new ScheduledSequence(b, 4, false));
        SchedulerOutput fifth = h.runStep();
        assertThat(fifth.scheduled()).containsExactly(new ScheduledSequence(b, 1, true));
        assertThat(fifth.batch().positions()).containsExactly(4);
        assertThat(b.numOutputTokens()).isEqualTo(2);
        h.finish(b);
        h.assertDrained();
    }

    @Test
    void runningDecodesAreScheduledEveryStepWhileALongPromptPrefills() {
        SchedulerHarness h = harness(4, 4, 0, 256, 256, 4);
        List<Sequence> decoders = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            decoders.add(h.submit("d" + i, prompt(1, i)));
        }
        h.runStep();
        Sequence big = h.submit("big", prompt(200, 1000));
        for (int step = 0; step < 200; step++) {
            SchedulerOutput out = h.runStep();
            for (Sequence d : decoders) {
                assertThat(tokensOf(out, d)).isEqualTo(1);
            }
            assertThat(tokensOf(out, big)).isEqualTo(1);
        }
        assertThat(big.numOutputTokens()).isEqualTo(1);
    }

    @Test
    void finishAndAbortWorkInEitherQueue() {
        SchedulerHarness h = harness(8, 2, 0, 64, 16, 4);
        Sequence a = h.submit("a", prompt(4, 0));
        Sequence b = h.submit("b", prompt(4, 10));
        Sequence c = h.submit("c", prompt(4, 20));
        Sequence d = h.submit("d", prompt(4, 30));
        h.runStep();
        assertThat(h.kv.numBlocksOf("a")).isEqualTo(1);

        assertThat(h.abort("a")).isTrue();
        assertThat(h.abort("c")).isTrue();
        h.finish(b);
        assertThat(h.abort("a")).isFalse();
        assertThat(h.abort("nobody")).isFalse();
        h.scheduler.finish(b);
        assertThat(b.status()).isEqualTo(SequenceStatus.FINISHED);
        assertThat(h.scheduler.numRunning()).isZero();
        assertThat(h.scheduler.numWaiting()).isEqualTo(1);

        SchedulerOutput out = h.runStep();
        assertThat(out.scheduled()).extracting(ScheduledSequence::sequence).containsExactly(d);
        h.finish(d);
        h.assertDrained();
        assertThat(a.status()).isEqualTo(SequenceStatus.FINISHED);
        assertThat(c.status()).isEqualTo(SequenceStatus.FINISHED);
        assertThatThrownBy(() -> a.appendToken(1)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void manyAbortedWaitingSequencesDoNotDisturbTheQueue() {
        SchedulerHarness h = harness(8, 2, 0, 64, 64, 4);
        List<Sequence> all = new ArrayList<>();
        for (int i = 0; i < 500; i++) {
            all.add(h.submit("r" + i, prompt(2, i)));
        }
        for (int i = 0; i < 500; i++) {
            if (i % 5 != 4) {
                h.abort("r" + i);
            }
        }
        assertThat(h.scheduler.numWaiting()).isEqualTo(100);
        SchedulerOutput out = h.runStep();
        assertThat(out.scheduled()).extracting(ScheduledSequence::sequence).containsExactly(all.get(4), all.get(9));
        while (h.numLive() > 0) {
            SchedulerOutput step = h.runStep();
            for (ScheduledSequence e : step.scheduled()) {
                if (e.sequence().numOutputTokens() > 0) {
                    h.finish(e.sequence());
                }
            }
        }
        h.assertDrained();
    }

    @Test
    void sequenceFinishedWhileItsStepRunsIsNotAdvanced() {
        SchedulerHarness h = harness(16, 4, 0, 64, 16, 4);
        Sequence a = h.submit("a", prompt(4, 0));
        Sequence b = h.submit("b", prompt(4, 10));
        SchedulerOutput out = h.schedule();
        h.abort("a");
        List<Sequence> sampled = h.complete(out, () -> 5);
        assertThat(sampled).containsExactly(b);
        assertThat(a.numComputedTokens()).isZero();
        assertThat(b.numComputedTokens()).isEqualTo(4);
    }

    @Test
    void addRejectsWhatCouldNeverRun() {
        SchedulerHarness h = harness(16, 4, 0, 40, 4, 8);
        assertThat(h.scheduler.maxSequenceTokens()).isEqualTo(32);
        assertThatThrownBy(() -> h.scheduler.add(new Sequence("long", prompt(41, 0))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("maxModelLen");
        assertThatThrownBy(() -> h.scheduler.add(new Sequence("huge", prompt(33, 0))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("KV cache");
        h.submit("x", prompt(32, 0));
        assertThatThrownBy(() -> h.scheduler.add(new Sequence("x", prompt(3, 0))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("already queued");
        h.abort("x");
        Sequence again = h.submit("x", prompt(3, 0));
        assertThatThrownBy(() -> h.scheduler.add(again)).isInstanceOf(IllegalArgumentException.class);
        Sequence finished = new Sequence("y", prompt(3, 0));
        h.scheduler.finish(finished);
        assertThat(finished.status()).isEqualTo(SequenceStatus.FINISHED);
        assertThatThrownBy(() -> h.scheduler.add(finished)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void sequenceGrownPastThePoolFailsLoudlyBeforeChangingAnything() {
        SchedulerHarness h = harness(16, 4, 0, 100, 2, 4);
        Sequence a = h.submit("a", prompt(8, 0));
        h.runStep();
        assertThat(a.numTokens()).isEqualTo(9);
        assertThatThrownBy(h.scheduler::schedule).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("maxSequenceTokens 8");
        assertThat(a.status()).isEqualTo(SequenceStatus.RUNNING);
        assertThat(h.kv.numBlocksOf("a")).isEqualTo(2);
        h.finish(a);
        h.assertDrained();
    }

    @Test
    void staleOrRepeatedCompletionIsRefusedAndAFailedStepIsSimplyRescheduled() {
        SchedulerHarness h = harness(16, 4, 0, 64, 16, 4);
        Sequence a = h.submit("a", prompt(6, 0));
        SchedulerOutput failed = h.scheduler.schedule();
        SchedulerOutput retried = h.scheduler.schedule();
        assertThat(retried.scheduled()).isEqualTo(failed.scheduled());
        assertThat(retried.batch().kvPageIndices()).containsExactly(failed.batch().kvPageIndices());
        assertThatThrownBy(() -> h.scheduler.onStepComplete(failed)).isInstanceOf(IllegalStateException.class);
        h.scheduler.onStepComplete(retried);
        assertThatThrownBy(() -> h.scheduler.onStepComplete(retried)).isInstanceOf(IllegalStateException.class);
        assertThat(a.numComputedTokens()).isEqualTo(6);
    }

    @Test
    void constructorChecksSettingsAgainstTheKvCache() {
        assertThatThrownBy(() -> new ChunkedPrefillScheduler(new SchedulerSettings(8, 4, 0, 64),
                new KvCacheManager(16, 16)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("one KV block");
    }
}
