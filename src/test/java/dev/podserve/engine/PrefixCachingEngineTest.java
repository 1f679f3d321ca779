package dev.podserve.engine;

import static dev.podserve.engine.RequestOutputs.tokens;
import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.podserve.sampling.SamplingParams;

/**
 * Prefix caching through the engine on the CPU backend: a request that starts on another's pages
 * produces exactly the tokens and log-probabilities it produces computing everything itself.
 */
class PrefixCachingEngineTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private final List<Engine> engines = new ArrayList<>();
    private final AtomicInteger ids = new AtomicInteger();

    @AfterEach
    void closeEngines() {
        engines.forEach(Engine::close);
    }

    private Engine engine(int numBlocks, int budget, boolean prefixCaching) {
        Engine e = TinyModel.engine(numBlocks, budget, 8, budget, TinyModel.EOS, b -> b, EngineListener.NONE, prefixCaching);
        engines.add(e);
        return e;
    }

    private static SamplingParams greedy(int maxTokens) {
        return SamplingParams.builder().temperature(0).maxTokens(maxTokens).ignoreEos(true).logprobs(3).build();
    }

    private List<RequestOutput> run(Engine engine, int[] prompt, SamplingParams params) {
        return engine.submit(new GenerationRequest("c-" + ids.incrementAndGet(), prompt, params)).collectList().block(TIMEOUT);
    }

    /** Every generated token's log-probability and alternatives, flattened for exact comparison. */
    private static List<String> logprobs(List<RequestOutput> outs) {
        List<String> all = new ArrayList<>();
        for (RequestOutput o : outs) {
            for (TokenLogprob lp : o.logprobs()) {
                all.add(lp.token() + ":" + Float.floatToIntBits(lp.logprob()) + ":" + Arrays.toString(lp.topTokens())
                        + ":" + Arrays.toString(lp.topLogprobs()));
            }
        }
        return all;
    }

    private static int[] randomTokens(Random random, int n) {
        return random.ints(n, 0, TinyModel.CONFIG.vocabSize()).toArray();
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void requestsStartingOnCachedPagesGiveTheTokensAndLogprobsOfComputingEverything() {
        Random random = new Random(5);
        int[] a = randomTokens(random, 100);
        int[][] prompts = {
                a,
                concat(Arrays.copyOf(a, 80), randomTokens(random, 23)),  // 5 pages of a, then its own
                a.clone(),                                               // all of a but its last token's page
                concat(a, randomTokens(random, 40)),                     // a, then more
                concat(Arrays.copyOf(a, 15), randomTokens(random, 30)),  // less than a page of a: nothing
        };
        int[] expectCached = {0, 80, 96, 96, 0};
        // A budget of 32 cuts every prompt into chunks, the cached start included.
        Engine cached = engine(96, 32, true);
        Engine plain = engine(96, 32, false);
        for (int i = 0; i < prompts.length; i++) {
            List<RequestOutput> got = run(cached, prompts[i], greedy(7));
            List<RequestOutput> want = run(plain, prompts[i], greedy(7));
            assertThat(tokens(got)).as("prompt %d", i).containsExactly(tokens(want));
            assertThat(logprobs(got)).as("prompt %d", i).containsExactlyElementsOf(logprobs(want));
            assertThat(got.get(got.size() - 1).cachedPromptTokens()).as("prompt %d", i).isEqualTo(expectCached[i]);
            assertThat(want.get(want.size() - 1).cachedPromptTokens()).isZero();
            assertThat(got.get(got.size() - 1).promptTokens()).isEqualTo(prompts[i].length);
        }
        EngineStats stats = cached.stats();
        assertThat(stats.prefixCacheHits()).isEqualTo(Arrays.stream(expectCached).sum());
        assertThat(stats.prefixCacheQueries()).isEqualTo(Arrays.stream(prompts).mapToInt(p -> p.length).sum());
        assertThat(plain.stats().prefixCacheQueries()).isZero();
    }

    @Test
    void aFollowUpTurnStartsOnTheCachedPagesOfThePreviousAnswerToo() {
        Random random = new Random(8);
        int[] first = randomTokens(random, 40);
        Engine cached = engine(96, 64, true);
        Engine plain = engine(96, 64, false);
        List<RequestOutput> answer = run(cached, first, greedy(30));
        // The next turn's prompt holds the first prompt, the answer (as generated), and a new message.
        int[] next = concat(concat(first, tokens(answer)), randomTokens(random, 9));
        List<RequestOutput> got = run(cached, next, greedy(5));
        List<RequestOutput> want = run(plain, next, greedy(5));
        assertThat(tokens(got)).containsExactly(tokens(want));
        assertThat(logprobs(got)).containsExactlyElementsOf(logprobs(want));
        // Computed were the 40 prompt tokens and 29 of the answer's 30: four whole pages of 16.
        assertThat(got.get(0).cachedPromptTokens()).isEqualTo(64);
    }

    @Test
    void concurrentRequestsSharingAStemMatchComputingAloneAndScoringRequestsComputeEverything() throws Exception {
        Random random = new Random(13);
        int[] stem = randomTokens(random, 70);
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            prompts.add(concat(stem, randomTokens(random, 5 + 7 * i)));
        }
        // Eight pages' budget: the first request's stem pages are registered before the later ones start.
        Engine cached = engine(200, 24, true);
        Engine plain = engine(200, 24, false);
        // Subscribing queues a request, so all are queued before any is awaited.
        List<CompletableFuture<List<RequestOutput>>> streams = new ArrayList<>();
        for (int[] p : prompts) {
            streams.add(cached.submit(new GenerationRequest("s-" + ids.incrementAndGet(), p, greedy(6))).collectList().toFuture());
        }
        SamplingParams scoring = SamplingParams.builder().temperature(0).maxTokens(2).ignoreEos(true).promptLogprobs(2).build();
        CompletableFuture<List<RequestOutput>> scored =
                cached.submit(new GenerationRequest("s-score", prompts.get(0), scoring)).collectList().toFuture();
        List<List<RequestOutput>> got = new ArrayList<>();
        for (CompletableFuture<List<RequestOutput>> f : streams) {
            got.add(f.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
        }
        List<RequestOutput> scoredOut = scored.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        assertThat(cached.stats().steps()).as("they ran side by side").isLessThan(40);
        int hits = 0;
        for (int i = 0; i < prompts.size(); i++) {
            List<RequestOutput> want = run(plain, prompts.get(i), greedy(6));
            assertThat(tokens(got.get(i))).as("prompt %d", i).containsExactly(tokens(want));
            assertThat(logprobs(got.get(i))).as("prompt %d", i).containsExactlyElementsOf(logprobs(want));
            hits += got.get(i).get(0).cachedPromptTokens() > 0 ? 1 : 0;
        }
        assertThat(hits).as("later requests start on the stem's pages").isGreaterThanOrEqualTo(3);
        assertThat(scoredOut.get(0).cachedPromptTokens()).isZero();
        assertThat(scoredOut.get(0).promptLogprobs()).hasSize(prompts.get(0).length - 1);
        List<RequestOutput> scoredPlain = run(plain, prompts.get(0), scoring);
        assertThat(scoredOut.get(0).promptLogprobs()).usingRecursiveComparison()
                .isEqualTo(scoredPlain.get(0).promptLogprobs());
    }

    /**
     * Four copies of one prompt queued together, as the {@code n} choices of a request are. With a
     * chunk of 16 under a budget of 64, all four would prefill side by side; instead the first
     * computes the prompt and the others start on its five whole pages, with the tokens and
     * log-probabilities of computing everything.
     */
    @Test
    void copiesOfOnePromptQueuedTogetherComputeItOnceWithTheSameTokens() throws Exception {
        int[] prompt = randomTokens(new Random(34), 90);
        Engine cached = TinyModel.engine(96, 64, 8, 16, TinyModel.EOS, b -> b, EngineListener.NONE, true);
        engines.add(cached);
        Engine plain = engine(96, 64, false);
        List<CompletableFuture<List<RequestOutput>>> copies = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            copies.add(cached.submit(new GenerationRequest("n-" + i, prompt, greedy(8))).collectList().toFuture());
        }
        List<RequestOutput> want = run(plain, prompt, greedy(8));
        int[] cachedTokens = new int[4];
        for (int i = 0; i < 4; i++) {
            List<RequestOutput> got = copies.get(i).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            assertThat(tokens(got)).as("copy %d", i).containsExactly(tokens(want));
            assertThat(logprobs(got)).as("copy %d", i).containsExactlyElementsOf(logprobs(want));
            cachedTokens[i] = got.get(got.size() - 1).cachedPromptTokens();
        }
        assertThat(cachedTokens).containsExactly(0, 80, 80, 80);
        assertThat(cached.stats().prefixCacheHits()).isEqualTo(240);
    }

    @Test
    void aPreemptedRequestResumesOnItsOwnCachedPagesWithTheSameTokens() throws Exception {
        // 14 pages of 16 tokens: two 60-token prompts with 60 tokens out each cannot both finish at once.
        Random random = new Random(21);
        int[] p1 = randomTokens(random, 60);
        int[] p2 = randomTokens(random, 60);
        Engine cached = engine(14, 64, true);
        Engine plain = engine(14, 64, false);
        List<List<RequestOutput>> got = new ArrayList<>();
        List<CompletableFuture<List<RequestOutput>>> futures = List.of(
                cached.submit(new GenerationRequest("q1", p1, greedy(60))).collectList().toFuture(),
                cached.submit(new GenerationRequest("q2", p2, greedy(60))).collectList().toFuture());
        for (CompletableFuture<List<RequestOutput>> f : futures) {
            got.add(f.get(TIMEOUT.toSeconds(), TimeUnit.SECONDS));
        }
        assertThat(tokens(got.get(0))).containsExactly(tokens(run(plain, p1, greedy(60))));
        assertThat(tokens(got.get(1))).containsExactly(tokens(run(plain, p2, greedy(60))));
        EngineStats stats = cached.stats();
        assertThat(stats.preemptions()).as("the pool forces a preemption").isPositive();
        // Coming back on its own cached pages is not a hit, and neither request found any at first.
        assertThat(stats.prefixCacheHits()).isZero();
        assertThat(got.get(0).get(0).cachedPromptTokens()).isZero();
        assertThat(got.get(1).get(got.get(1).size() - 1).cachedPromptTokens()).isZero();
        TinyModel.awaitIdle(cached, TIMEOUT);
    }
}
