package dev.podserve.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.podserve.attention.HybridBatch;
import dev.podserve.backend.ComputeBackend;
import dev.podserve.model.ModelConfig;
import dev.podserve.sampling.SamplingParams;

import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

class EngineTest {

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

    private static SamplingParams.Builder greedy(int maxTokens) {
        return SamplingParams.builder().temperature(0).maxTokens(maxTokens).ignoreEos(true);
    }

    private GenerationRequest request(int[] prompt, SamplingParams params) {
        return new GenerationRequest("req-" + ids.incrementAndGet(), prompt, params);
    }

    private static int[] prompt(String text) {
        return TinyModel.TOKENIZER.encode(text);
    }

    /** Token ids and text of a finished generation, plus its finish reason. */
    record Result(int[] tokens, String text, FinishReason finish, int completionTokens) {
        static Result of(List<RequestOutput> outputs) {
            StringBuilder text = new StringBuilder();
            List<Integer> tokens = new ArrayList<>();
            FinishReason finish = null;
            int completion = 0;
            for (RequestOutput o : outputs) {
                text.append(o.text());
                for (int t : o.tokenIds()) tokens.add(t);
                if (o.finishReason() != null) finish = o.finishReason();
                completion = o.completionTokens();
            }
            return new Result(tokens.stream().mapToInt(Integer::intValue).toArray(), text.toString(), finish, completion);
        }
    }

    private Result run(Engine engine, int[] prompt, SamplingParams params) {
        return Result.of(engine.submit(request(prompt, params)).collectList().block(TIMEOUT));
    }

    private static void awaitIdle(Engine engine) throws InterruptedException {
        TinyModel.awaitIdle(engine, TIMEOUT);
    }

    @Test
    void twoHundredGreedyTokensWhoseTextIsTheirDecoding() {
        Engine engine = track(TinyModel.engine());
        Result r = run(engine, prompt("Hello, podserve!"), greedy(200).build());
        assertThat(r.tokens()).hasSize(200);
        assertThat(r.completionTokens()).isEqualTo(200);
        assertThat(r.finish()).isEqualTo(FinishReason.LENGTH);
        assertThat(r.text()).isEqualTo(TinyModel.TOKENIZER.decode(r.tokens(), true));
    }

    @Test
    void sixteenConcurrentIdenticalGreedyRequestsEqualOneAlone() throws Exception {
        Engine engine = track(TinyModel.engine());
        int[] p = prompt("The quick brown fox jumps over the lazy dog. ".repeat(3));
        Result alone = run(engine, p, greedy(48).build());
        List<CompletableFuture<List<RequestOutput>>> all = new ArrayList<>();
        for (int i = 0; i < 16; i++) all.add(engine.submit(request(p, greedy(48).build())).collectList().toFuture());
        for (CompletableFuture<List<RequestOutput>> f : all) {
            Result r = Result.of(f.get(60, TimeUnit.SECONDS));
            assertThat(r.tokens()).containsExactly(alone.tokens());
            assertThat(r.text()).isEqualTo(alone.text());
        }
        awaitIdle(engine);
    }

    /** Different prompts, chunked and interleaved with decodes, each equal to its run alone. */
    @Test
    void mixedConcurrentRequestsEqualTheirRunsAlone() throws Exception {
        Engine engine = track(TinyModel.engine(512, 96, 8, 40, b -> b));
        Random rnd = new Random(11);
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            int[] p = new int[1 + rnd.nextInt(150)];
            for (int j = 0; j < p.length; j++) p[j] = rnd.nextInt(256);
            prompts.add(p);
        }
        List<Result> alone = prompts.stream().map(p -> run(engine, p, greedy(20).build())).toList();
        List<CompletableFuture<List<RequestOutput>>> all = prompts.stream()
                .map(p -> engine.submit(request(p, greedy(20).build())).collectList().toFuture()).toList();
        for (int i = 0; i < prompts.size(); i++) {
            assertThat(Result.of(all.get(i).get(60, TimeUnit.SECONDS)).tokens())
                    .as("prompt %d", i).containsExactly(alone.get(i).tokens());
        }
        awaitIdle(engine);
    }

    @Test
    void seededSamplingDoesNotDependOnBatchNeighbours() throws Exception {
        Engine engine = track(TinyModel.engine());
        SamplingParams seeded = SamplingParams.builder().temperature(1.0).topP(0.9).seed(42L).maxTokens(40).ignoreEos(true).build();
        int[] p = prompt("seeded");
        Result alone = run(engine, p, seeded);
        List<CompletableFuture<List<RequestOutput>>> noise = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            noise.add(engine.submit(request(prompt("noise " + i), SamplingParams.builder().temperature(1.0).maxTokens(30)
                    .ignoreEos(true).build())).collectList().toFuture());
        }
        Result together = Result.of(engine.submit(request(p, seeded)).collectList().block(TIMEOUT));
        for (CompletableFuture<List<RequestOutput>> f : noise) f.get(60, TimeUnit.SECONDS);
        assertThat(together.tokens()).containsExactly(alone.tokens());
        Result otherSeed = run(engine, p, SamplingParams.builder().temperature(1.0).topP(0.9).seed(43L).maxTokens(40).ignoreEos(true).build());
        assertThat(otherSeed.tokens()).isNotEqualTo(alone.tokens());
    }

    @Test
    void preemptionUnderATinyKvPoolStillGivesTheSameTokens() throws Exception {
        // 10 pages of 16 tokens; four requests of 30 + 50 tokens (5 pages each) cannot all fit.
        Engine engine = track(TinyModel.engine(10, 64, 4, 32, b -> b));
        Random rnd = new Random(5);
        List<int[]> prompts = new ArrayList<>();
        for (int i = 0; i < 4; i++) prompts.add(rnd.ints(30, 0, 256).toArray());
        List<Result> alone = prompts.stream().map(p -> run(engine, p, greedy(50).build())).toList();
        assertThat(engine.stats().preemptions()).isZero();
        List<CompletableFuture<List<RequestOutput>>> all = prompts.stream()
                .map(p -> engine.submit(request(p, greedy(50).build())).collectList().toFuture()).toList();
        for (int i = 0; i < prompts.size(); i++) {
            assertThat(Result.of(all.get(i).get(60, TimeUnit.SECONDS)).tokens()).containsExactly(alone.get(i).tokens());
        }
        assertThat(engine.stats().preemptions()).isPositive();
        awaitIdle(engine);
    }

    @Test
    void cancellingTheFluxAbortsAndFreesEveryBlock() throws Exception {
        Engine engine = track(TinyModel.engine());
        CountDownLatch three = new CountDownLatch(3);
        Disposable sub = engine.submit(request(prompt("cancel me"), greedy(3000).build()))
                .subscribeOn(Schedulers.boundedElastic())
                .subscribe(o -> three.countDown());
        assertThat(three.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(engine.stats().kvUsage()).isPositive();
        sub.dispose();
        awaitIdle(engine);
        // The engine still serves.
        assertThat(run(engine, prompt("after"), greedy(5).build()).tokens()).hasSize(5);
    }

    @Test
    void abortByIdEndsWithAbortReason() throws Exception {
        Engine engine = track(TinyModel.engine());
        GenerationRequest req = request(prompt("abort me"), greedy(3000).build());
        CountDownLatch first = new CountDownLatch(1);
        List<RequestOutput> seen = java.util.Collections.synchronizedList(new ArrayList<>());
        Flux<RequestOutput> flux = engine.submit(req);
        Disposable d = flux.subscribe(o -> { seen.add(o); first.countDown(); });
        assertThat(first.await(30, TimeUnit.SECONDS)).isTrue();
        engine.abort(req.requestId());
        awaitIdle(engine);
        Thread.sleep(20);
        assertThat(seen.get(seen.size() - 1).finishReason()).isEqualTo(FinishReason.ABORT);
        d.dispose();
    }

    @Test
    void stopStringEndsTheTextBeforeIt() {
        Engine engine = track(TinyModel.engine());
        int[] p = prompt("stop strings");
        Result full = run(engine, p, greedy(60).build());
        String text = full.text();
        assertThat(text.length()).isGreaterThan(20);
        String stop = text.substring(12, 15);
        Result stopped = run(engine, p, greedy(60).stop(List.of(stop)).build());
        assertThat(stopped.finish()).isEqualTo(FinishReason.STOP);
        assertThat(stopped.text()).isEqualTo(text.substring(0, text.indexOf(stop)));
        assertThat(stopped.text()).doesNotContain(stop);
    }

    @Test
    void eosEndsGenerationButNotBeforeMinTokens() {
        Engine engine = track(TinyModel.engine());
        int eos = TinyModel.EOS[0];
        SamplingParams.Builder forceEos = SamplingParams.builder().temperature(0).maxTokens(20).logitBias(Map.of(eos, 100.0));
        Result r = run(engine, prompt("x"), forceEos.build());
        assertThat(r.finish()).isEqualTo(FinishReason.STOP);
        assertThat(r.tokens()).containsExactly(eos);
        assertThat(r.text()).isEmpty();
        Result min = run(engine, prompt("x"), forceEos.minTokens(3).build());
        assertThat(min.tokens()).hasSize(4);
        assertThat(min.tokens()[3]).isEqualTo(eos);
        assertThat(IntStream.of(min.tokens()).limit(3).noneMatch(t -> Arrays.stream(TinyModel.EOS).anyMatch(e -> e == t))).isTrue();
        Result ignored = run(engine, prompt("x"), forceEos.minTokens(0).ignoreEos(true).maxTokens(7).build());
        assertThat(ignored.finish()).isEqualTo(FinishReason.LENGTH);
        assertThat(ignored.tokens()).hasSize(7);
    }

    @Test
    void requestsThatCanNeverBeServedAreRefusedBeforeQueueing() {
        Engine engine = track(TinyModel.engine());
        int max = engine.maxModelLen();
        assertThatThrownBy(() -> engine.submit(request(new int[max - 10], greedy(11).build())))
                .isInstanceOf(RequestRejectedException.class)
                .hasMessageContaining(String.valueOf(max)).hasMessageContaining(String.valueOf(max + 1))
                .extracting(e -> ((RequestRejectedException) e).param()).isEqualTo("max_tokens");
        assertThatThrownBy(() -> engine.submit(request(new int[0], greedy(1).build())))
                .isInstanceOf(RequestRejectedException.class).hasMessageContaining("empty");
        assertThatThrownBy(() -> engine.submit(request(new int[] {1, TinyModel.CONFIG.vocabSize()}, greedy(1).build())))
                .isInstanceOf(RequestRejectedException.class).hasMessageContaining("out of vocabulary");
        assertThat(engine.stats().waiting()).isZero();
    }

    @Test
    void aFailedStepFailsItsRequestsAndTheEngineGoesOn() {
        int poison = 7;
        Engine engine = track(TinyModel.engine(512, 256, 32, 64, b -> new FailingBackend(b, poison)));
        Flux<RequestOutput> bad = engine.submit(request(new int[] {65, poison, 66}, greedy(5).build()));
        assertThatThrownBy(() -> bad.collectList().block(TIMEOUT)).isInstanceOf(StepFailedException.class);
        assertThat(run(engine, prompt("fine"), greedy(5).build()).tokens()).hasSize(5);
    }

    @Test
    void shutdownFailsPendingRequestsAndRefusesNewOnes() {
        Engine engine = TinyModel.engine();
        Flux<RequestOutput> pending = engine.submit(request(prompt("never finishes"), greedy(4000).build()));
        List<Throwable> errors = new ArrayList<>();
        CountDownLatch done = new CountDownLatch(1);
        pending.subscribe(o -> { }, e -> { errors.add(e); done.countDown(); }, done::countDown);
        assertThat(engine.isServing()).isTrue();
        engine.close();
        assertThat(engine.isServing()).isFalse();
        assertThat(errors).singleElement().isInstanceOf(EngineUnavailableException.class);
        assertThatThrownBy(() -> engine.submit(request(prompt("late"), greedy(1).build())))
                .isInstanceOf(EngineUnavailableException.class);
    }

    /** Throws on any batch holding the poison token, as a broken kernel would. */
    private record FailingBackend(ComputeBackend inner, int poison) implements ComputeBackend {
        @Override public ModelConfig config() { return inner.config(); }
        @Override public int numKvBlocks() { return inner.numKvBlocks(); }
        @Override public int pageSize() { return inner.pageSize(); }
        @Override public String describe() { return "failing " + inner.describe(); }
        @Override public float[][] forward(HybridBatch batch) {
            if (IntStream.of(batch.tokenIds()).anyMatch(t -> t == poison)) throw new IllegalStateException("injected fault");
            return inner.forward(batch);
        }
    }
}
