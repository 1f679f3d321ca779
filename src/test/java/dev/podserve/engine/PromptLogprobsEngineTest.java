package dev.podserve.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.podserve.attention.HybridBatch;
import dev.podserve.backend.ComputeBackend;
import dev.podserve.backend.cpu.ReferenceForward;
import dev.podserve.model.ModelConfig;
import dev.podserve.sampling.SamplingParams;

/**
 * Prompt log-probabilities through the engine: scored across chunk boundaries, beside other
 * requests and across preemptions, checked against the token-by-token reference forward pass; and
 * {@code max_tokens} 0, which computes the prompt and generates nothing.
 */
class PromptLogprobsEngineTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private final List<Engine> engines = new ArrayList<>();
    private final AtomicInteger ids = new AtomicInteger();

    @AfterEach
    void closeEngines() {
        engines.forEach(Engine::close);
    }

    private Engine track(Engine e) {
        engines.add(e);
        return e;
    }

    private static SamplingParams scoring(int maxTokens, int top) {
        return SamplingParams.builder().temperature(0).maxTokens(maxTokens).ignoreEos(true).promptLogprobs(top).build();
    }

    private List<RequestOutput> run(Engine engine, int[] prompt, SamplingParams params) {
        return engine.submit(new GenerationRequest("p-" + ids.incrementAndGet(), prompt, params)).collectList().block(TIMEOUT);
    }

    /**
     * Each prompt token's log-probability and the log-probabilities of the whole row, from the
     * reference forward pass fed one token at a time: [promptLength - 1][vocab].
     */
    private static double[][] reference(int[] prompt) {
        ReferenceForward.Sequence seq = new ReferenceForward(TinyModel.CONFIG, TinyModel.WEIGHTS).newSequence();
        double[][] out = new double[prompt.length - 1][];
        for (int i = 0; i + 1 < prompt.length; i++) {
            float[] logits = seq.append(prompt[i]);
            double max = Double.NEGATIVE_INFINITY;
            for (float x : logits) max = Math.max(max, x);
            double sum = 0;
            for (float x : logits) sum += Math.exp(x - max);
            double lse = max + Math.log(sum);
            out[i] = new double[logits.length];
            for (int v = 0; v < logits.length; v++) out[i][v] = logits[v] - lse;
        }
        return out;
    }

    private static void assertMatchesReference(List<TokenLogprob> got, int[] prompt, int top) {
        double[][] want = reference(prompt);
        assertThat(got).hasSize(prompt.length - 1);
        for (int i = 0; i < got.size(); i++) {
            TokenLogprob lp = got.get(i);
            assertThat(lp.token()).as("entry %d scores prompt token %d", i, i + 1).isEqualTo(prompt[i + 1]);
            assertThat((double) lp.logprob()).as("logprob of prompt token %d", i + 1).isCloseTo(want[i][prompt[i + 1]], within(2e-3));
            assertThat(lp.topTokens()).hasSize(top);
            // Its rank: how many tokens are at least as likely, itself included (up to rounding).
            double own = want[i][prompt[i + 1]];
            long ahead = java.util.Arrays.stream(want[i]).filter(x -> x > own + 2e-3).count();
            long tiedOrAhead = java.util.Arrays.stream(want[i]).filter(x -> x >= own - 2e-3).count();
            assertThat((long) lp.rank()).as("rank of prompt token %d", i + 1).isBetween(ahead + 1, tiedOrAhead);
            // The alternatives are the row's best: none is beaten by a token left out, beyond rounding.
            double[] sorted = want[i].clone();
            java.util.Arrays.sort(sorted);
            double nthBest = top == 0 ? 0 : sorted[sorted.length - top];
            for (int k = 0; k < top; k++) {
                double ref = want[i][lp.topTokens()[k]];
                assertThat((double) lp.topLogprobs()[k]).isCloseTo(ref, within(2e-3));
                assertThat(ref).isGreaterThanOrEqualTo(nthBest - 2e-3);
                if (k > 0) assertThat(lp.topLogprobs()[k]).isLessThanOrEqualTo(lp.topLogprobs()[k - 1]);
            }
        }
    }

    @Test
    void scoresEveryPromptTokenAcrossChunksAndLeavesTheTokensAsTheyWere() {
        // A budget of 16 cuts the 77-token prompt into five chunks.
        Engine engine = track(TinyModel.engine(64, 16, 8, 8, b -> b));
        int[] prompt = new Random(11).ints(77, 0, TinyModel.CONFIG.vocabSize()).toArray();
        List<RequestOutput> scored = run(engine, prompt, scoring(6, 3));
        assertMatchesReference(scored.get(0).promptLogprobs(), prompt, 3);
        for (int i = 1; i < scored.size(); i++) assertThat(scored.get(i).promptLogprobs()).isNull();
        SamplingParams plain = SamplingParams.builder().temperature(0).maxTokens(6).ignoreEos(true).build();
        List<RequestOutput> unscored = run(engine, prompt, plain);
        assertThat(tokens(scored)).containsExactlyElementsOf(tokens(unscored));
        assertThat(unscored.get(0).promptLogprobs()).isNull();
    }

    @Test
    void maxTokensZeroComputesThePromptAndGeneratesNothing() throws Exception {
        Engine engine = track(TinyModel.engine(64, 32, 8, 8, b -> b));
        int[] prompt = new Random(12).ints(45, 0, TinyModel.CONFIG.vocabSize()).toArray();
        List<RequestOutput> out = run(engine, prompt, scoring(0, 0));
        assertThat(out).hasSize(1);
        RequestOutput only = out.get(0);
        assertThat(only.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(only.tokenIds()).isEmpty();
        assertThat(only.text()).isEmpty();
        assertThat(only.completionTokens()).isZero();
        assertThat(only.promptTokens()).isEqualTo(45);
        assertMatchesReference(only.promptLogprobs(), prompt, 0);
        // Without prompt log-probabilities it is an echo's cost: the prompt's compute and nothing else.
        List<RequestOutput> bare = run(engine, prompt, SamplingParams.builder().maxTokens(0).build());
        assertThat(bare).hasSize(1);
        assertThat(bare.get(0).promptLogprobs()).isNull();
        assertThat(bare.get(0).finishReason()).isEqualTo(FinishReason.LENGTH);
        awaitIdle(engine);
    }

    @Test
    void aOneTokenPromptHasNothingToScore() {
        Engine engine = track(TinyModel.engine());
        List<RequestOutput> out = run(engine, new int[] {42}, scoring(2, 1));
        assertThat(out.get(0).promptLogprobs()).isEmpty();
        assertThat(tokens(out)).hasSize(2);
    }

    @Test
    void besideOtherRequestsAndAcrossPreemptionsEachScoreIsItsOwnAloneBitForBit() throws Exception {
        Random rnd = new Random(13);
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < 4; i++) prompts.add(rnd.ints(30 + 7 * i, 0, TinyModel.CONFIG.vocabSize()).toArray());
        Engine roomy = track(TinyModel.engine(64, 24, 8, 8, b -> b));
        List<List<RequestOutput>> alone = new ArrayList<>();
        for (int[] p : prompts) alone.add(run(roomy, p, scoring(40, 2)));
        // 12 pages of 16 tokens cannot hold four requests of 30-51 prompt and 40 output tokens: some
        // are preempted after their prompts were scored, and recompute them.
        Engine tight = track(TinyModel.engine(12, 24, 4, 8, b -> b));
        List<CompletableFuture<List<RequestOutput>>> all = new ArrayList<>();
        for (int[] p : prompts) {
            all.add(tight.submit(new GenerationRequest("t-" + ids.incrementAndGet(), p, scoring(40, 2))).collectList().toFuture());
        }
        for (int i = 0; i < prompts.size(); i++) {
            List<RequestOutput> got = all.get(i).get(60, TimeUnit.SECONDS);
            assertThat(tokens(got)).containsExactlyElementsOf(tokens(alone.get(i)));
            List<TokenLogprob> want = alone.get(i).get(0).promptLogprobs();
            List<TokenLogprob> have = got.get(0).promptLogprobs();
            assertThat(have).hasSameSizeAs(want);
            for (int k = 0; k < want.size(); k++) {
                assertThat(have.get(k).logprob()).isEqualTo(want.get(k).logprob());
                assertThat(have.get(k).topTokens()).containsExactly(want.get(k).topTokens());
            }
            long withPrompt = got.stream().filter(o -> o.promptLogprobs() != null).count();
            assertThat(withPrompt).as("prompt log-probabilities come once").isEqualTo(1);
        }
        assertThat(tight.stats().preemptions()).isPositive();
        awaitIdle(tight);
    }

    /**
     * A budget of 16 after a 15-token prompt leaves one token for the next prompt: a chunk of one
     * row, which the scheduler files among the single-row requests. Its row still predicts a prompt
     * token and must be scored, with max_tokens 0 too (whose output would otherwise find a gap).
     */
    @Test
    void aOneTokenChunkAmongTheDecodesIsScoredToo() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        Engine engine = track(TinyModel.engine(64, 16, 8, 0, b -> new HoldFirstStep(b, release)));
        Random rnd = new Random(15);
        // The first request holds the engine's first step until the other two are queued together.
        CompletableFuture<List<RequestOutput>> holder = engine.submit(new GenerationRequest("hold", new int[] {7},
                SamplingParams.builder().temperature(0).maxTokens(1).build())).collectList().toFuture();
        int[] filler = rnd.ints(15, 0, TinyModel.CONFIG.vocabSize()).toArray();
        int[] scored = rnd.ints(10, 0, TinyModel.CONFIG.vocabSize()).toArray();
        CompletableFuture<List<RequestOutput>> a = engine.submit(new GenerationRequest("fill", filler,
                SamplingParams.builder().temperature(0).maxTokens(2).ignoreEos(true).build())).collectList().toFuture();
        CompletableFuture<List<RequestOutput>> b = engine.submit(new GenerationRequest("score", scored, scoring(0, 1)))
                .collectList().toFuture();
        Thread.sleep(50);
        release.countDown();
        holder.get(60, TimeUnit.SECONDS);
        a.get(60, TimeUnit.SECONDS);
        List<RequestOutput> out = b.get(60, TimeUnit.SECONDS);
        assertMatchesReference(out.get(0).promptLogprobs(), scored, 1);
        assertThat(engine.isServing()).isTrue();
    }

    /**
     * A row without a distribution (here NaN logits, for the rows whose input token is 5) fails
     * only the request it belongs to: another scored in the same step gets all its scores.
     */
    @Test
    void aRowWithoutADistributionFailsOnlyItsOwnRequest() throws Exception {
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        Engine engine = track(TinyModel.engine(64, 64, 8, 8, b -> new NanRowsOfToken(b, release, 5)));
        CompletableFuture<List<RequestOutput>> holder = engine.submit(new GenerationRequest("hold", new int[] {7},
                SamplingParams.builder().temperature(0).maxTokens(1).build())).collectList().toFuture();
        int[] good = {10, 11, 12, 13, 14, 15};
        CompletableFuture<List<RequestOutput>> ok = engine.submit(new GenerationRequest("good", good, scoring(1, 1)))
                .collectList().toFuture();
        CompletableFuture<List<RequestOutput>> bad = engine.submit(new GenerationRequest("bad", new int[] {5, 5, 5, 5}, scoring(1, 1)))
                .collectList().toFuture();
        Thread.sleep(50);
        release.countDown();
        holder.get(60, TimeUnit.SECONDS);
        Throwable failure = null;
        try {
            bad.get(60, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            failure = e.getCause();
        }
        assertThat(failure).isInstanceOf(StepFailedException.class).hasMessageContaining("NaN");
        assertMatchesReference(ok.get(60, TimeUnit.SECONDS).get(0).promptLogprobs(), good, 1);
    }

    /** Scores on the host over logits made NaN in the rows whose input token is {@code token}. */
    private static final class NanRowsOfToken extends HoldFirstStep {
        private final int token;
        private HybridBatch last;

        NanRowsOfToken(ComputeBackend inner, java.util.concurrent.CountDownLatch release, int token) {
            super(inner, release);
            this.token = token;
        }

        @Override
        public float[][] forward(HybridBatch batch) {
            last = batch;
            return super.forward(batch);
        }

        @Override
        public void rowLogits(int[] rows, RowLogitsSink sink) {
            super.rowLogits(rows, (from, logits) -> {
                for (int j = 0; j < logits.length; j++) if (last.tokenIds()[rows[from + j]] == token) logits[j][0] = Float.NaN;
                sink.accept(from, logits);
            });
        }

        @Override
        public RowScore[] scoreRows(int[] rows, int[] targets, int top) {
            return dev.podserve.backend.HostRowScores.score(this, rows, targets, top);
        }
    }

    /** Holds the first step until released, so requests submitted meanwhile are scheduled together. */
    private static class HoldFirstStep extends dev.podserve.backend.ForwardingBackend {
        private final java.util.concurrent.CountDownLatch release;
        private boolean first = true;

        HoldFirstStep(ComputeBackend inner, java.util.concurrent.CountDownLatch release) {
            super(inner);
            this.release = release;
        }

        @Override
        public float[][] forward(HybridBatch batch) {
            if (first) {
                first = false;
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return super.forward(batch);
        }

        @Override
        public StepOutput forwardForSampling(HybridBatch batch, boolean[] needLogits) {
            return new StepOutput(forward(batch), null);
        }
    }

    @Test
    void aBackendThatCannotScoreFailsOnlyTheRequestsThatAsk() {
        Engine engine = track(TinyModel.engine(64, 64, 8, 8, NoRowLogits::new));
        int[] prompt = new Random(14).ints(20, 0, TinyModel.CONFIG.vocabSize()).toArray();
        Throwable failure = null;
        try {
            run(engine, prompt, scoring(3, 0));
        } catch (RuntimeException e) {
            failure = e;
        }
        assertThat(failure).isInstanceOf(StepFailedException.class).hasMessageContaining("prompt log-probabilities");
        SamplingParams plain = SamplingParams.builder().temperature(0).maxTokens(3).ignoreEos(true).build();
        assertThat(tokens(run(engine, prompt, plain))).hasSize(3);
    }

    private static List<Integer> tokens(List<RequestOutput> outputs) {
        List<Integer> out = new ArrayList<>();
        for (RequestOutput o : outputs) for (int t : o.tokenIds()) out.add(t);
        return out;
    }

    private static void awaitIdle(Engine engine) throws InterruptedException {
        TinyModel.awaitIdle(engine, TIMEOUT);
    }

    /** A backend without {@code rowLogits}, as a third-party one may be. */
    private record NoRowLogits(ComputeBackend inner) implements ComputeBackend {
        @Override public ModelConfig config() { return inner.config(); }
        @Override public int numKvBlocks() { return inner.numKvBlocks(); }
        @Override public int pageSize() { return inner.pageSize(); }
        @Override public String describe() { return "no-row-logits"; }
        @Override public float[][] forward(HybridBatch batch) { return inner.forward(batch); }
    }
}
