package dev.podserve.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.podserve.attention.HybridBatch;
import dev.podserve.backend.ComputeBackend;
import dev.podserve.model.ModelConfig;
import dev.podserve.sampling.SamplingParams;

import reactor.core.scheduler.Schedulers;

/**
 * The engine's deadlines and its abort of everything: a request not scheduled by its start
 * deadline fails with {@link QueueTimeoutException}; one still running at its finish deadline ends
 * with what it has and {@link FinishReason#ABORT}; {@code abortAll} ends running requests with
 * ABORT and fails waiting ones with the given error. Each time every KV block comes back.
 * A backend slowed to 5 ms a step keeps the timing independent of the machine.
 */
class EngineDeadlinesTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private final List<Engine> engines = new ArrayList<>();

    @AfterEach
    void close() {
        engines.forEach(Engine::close);
    }

    /** One sequence at a time, so a second request waits in the engine's queue. */
    private Engine oneAtATime() {
        Engine e = TinyModel.engine(512, 256, 1, 64, Slow::new);
        engines.add(e);
        return e;
    }

    private static GenerationRequest request(String id, int maxTokens, Deadlines d) {
        SamplingParams p = SamplingParams.builder().temperature(0).maxTokens(maxTokens).ignoreEos(true).build();
        return new GenerationRequest(id, TinyModel.TOKENIZER.encode("deadline " + id), p, true, d);
    }

    private static Deadlines startWithin(long ms) {
        return Deadlines.of(System.nanoTime(), Duration.ofMillis(ms), Duration.ZERO);
    }

    private static Deadlines finishWithin(long ms) {
        return Deadlines.of(System.nanoTime(), Duration.ZERO, Duration.ofMillis(ms));
    }

    private static CompletableFuture<List<RequestOutput>> run(Engine e, GenerationRequest r) {
        return e.submit(r).subscribeOn(Schedulers.boundedElastic()).collectList().toFuture();
    }

    private static void awaitIdle(Engine engine) throws InterruptedException {
        TinyModel.awaitIdle(engine, TIMEOUT);
    }

    private static RequestOutput last(List<RequestOutput> outputs) {
        return outputs.get(outputs.size() - 1);
    }

    @Test
    void aRequestNotStartedByItsDeadlineFailsAndTheRunningOneGoesOn() throws Exception {
        Engine engine = oneAtATime();
        CompletableFuture<List<RequestOutput>> first = run(engine, request("first", 60, Deadlines.NONE));
        while (engine.stats().running() == 0) Thread.sleep(1);
        long t0 = System.nanoTime();
        CompletableFuture<List<RequestOutput>> second = run(engine, request("second", 5, startWithin(100)));
        assertThatThrownBy(() -> second.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(QueueTimeoutException.class);
        long waited = (System.nanoTime() - t0) / 1_000_000;
        assertThat(waited).isBetween(90L, 2000L);
        List<RequestOutput> out = first.get(30, TimeUnit.SECONDS);
        assertThat(last(out).finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(last(out).completionTokens()).isEqualTo(60);
        awaitIdle(engine);
    }

    /**
     * Two choices of one response (one Deadlines), one sequence at a time: the second waits behind
     * the first far past the start deadline, but the response started, so it runs when its turn
     * comes instead of failing the response with a 429 after the first had done its work.
     */
    @Test
    void aChoiceWaitingBehindItsSiblingIsNotPastTheStartDeadline() throws Exception {
        Engine engine = oneAtATime();
        // The first choice must start within it, which a cold JVM on a loaded machine once missed at 200 ms;
        // its 400 steps of at least 5 ms keep the second waiting far past it all the same.
        Deadlines shared = startWithin(1000);
        CompletableFuture<List<RequestOutput>> first = run(engine, request("choice-0", 400, shared));
        CompletableFuture<List<RequestOutput>> second = run(engine, request("choice-1", 5, shared));
        assertThat(last(first.get(30, TimeUnit.SECONDS)).finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(last(second.get(30, TimeUnit.SECONDS)).finishReason()).isEqualTo(FinishReason.LENGTH);
        // The stats are published after the step that ended the choices: until then they still count one
        // running, and the wait below would let "late" race "busy" into the engine and run first.
        awaitIdle(engine);
        // Another response's request with its own deadline still fails when it cannot start in time.
        CompletableFuture<List<RequestOutput>> busy = run(engine, request("busy", 80, Deadlines.NONE));
        while (engine.stats().running() == 0) Thread.sleep(1);
        CompletableFuture<List<RequestOutput>> late = run(engine, request("late", 5, startWithin(100)));
        assertThatThrownBy(() -> late.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(QueueTimeoutException.class);
        busy.get(30, TimeUnit.SECONDS);
        awaitIdle(engine);
    }

    @Test
    void theStatsAreFinalAfterTheEngineCloses() throws Exception {
        Engine engine = oneAtATime();
        CompletableFuture<List<RequestOutput>> running = run(engine, request("cut", 500, Deadlines.NONE));
        while (engine.stats().running() == 0) Thread.sleep(1);
        engine.close();
        assertThatThrownBy(() -> running.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(EngineUnavailableException.class);
        assertThat(engine.stats().running()).isZero();
        assertThat(engine.stats().kvUsage()).isZero();
    }

    @Test
    void aStartDeadlineNoLongerCountsOnceTheRequestRuns() throws Exception {
        Engine engine = oneAtATime();
        // 300 steps of at least 5 ms: it runs far past its start deadline, and finishes. The deadline is
        // generous because the request must still start within it on a cold JVM and a loaded machine.
        List<RequestOutput> out = run(engine, request("starts", 300, startWithin(1000))).get(30, TimeUnit.SECONDS);
        assertThat(last(out).finishReason()).isEqualTo(FinishReason.LENGTH);
        awaitIdle(engine);
    }

    @Test
    void aRequestRunningAtItsFinishDeadlineEndsWithAbortAndWhatItHas() throws Exception {
        Engine engine = oneAtATime();
        long t0 = System.nanoTime();
        // The deadline runs from here, through the hand-over to the engine: a pause of 200 ms before the
        // first step (GC, a loaded CI machine) would fail the request as never started. 3000 steps still take 15 s.
        List<RequestOutput> out = run(engine, request("long", 3000, finishWithin(1000))).get(30, TimeUnit.SECONDS);
        long took = (System.nanoTime() - t0) / 1_000_000;
        RequestOutput end = last(out);
        assertThat(end.finishReason()).isEqualTo(FinishReason.ABORT);
        assertThat(end.completionTokens()).isBetween(1, 2999);
        assertThat(out.stream().mapToInt(o -> o.tokenIds().length).sum()).isEqualTo(end.completionTokens());
        assertThat(took).isBetween(990L, 10_000L);
        awaitIdle(engine);
    }

    /**
     * The text a deadline's abort answers with is all the text: here every token is 'A' and the
     * stop string "AAAB" holds the last three back at every step, which the abort used to drop.
     */
    @Test
    void aFinishDeadlineAbortKeepsTheHeldBackText() throws Exception {
        Engine engine = oneAtATime();
        SamplingParams p = SamplingParams.builder().temperature(0).maxTokens(3000).ignoreEos(true)
                .logitBias(java.util.Map.of(65, 100.0)).stop(List.of("AAAB")).build();
        // Long enough for a loaded two-core CI machine (JIT, GC, other forks) to make the four tokens the
        // hold-back needs: 200 ms once gave it one.
        GenerationRequest r = new GenerationRequest("held", TinyModel.TOKENIZER.encode("deadline held"), p, true, finishWithin(2000));
        List<RequestOutput> out = run(engine, r).get(30, TimeUnit.SECONDS);
        RequestOutput end = last(out);
        assertThat(end.finishReason()).isEqualTo(FinishReason.ABORT);
        assertThat(end.completionTokens()).isGreaterThan(3);
        String text = out.stream().map(RequestOutput::text).collect(java.util.stream.Collectors.joining());
        assertThat(text).isEqualTo("A".repeat(end.completionTokens()));
        awaitIdle(engine);
    }

    @Test
    void abortAllEndsRunningRequestsAndFailsWaitingOnes() throws Exception {
        Engine engine = oneAtATime();
        CompletableFuture<List<RequestOutput>> running = run(engine, request("running", 3000, Deadlines.NONE));
        while (engine.stats().running() == 0) Thread.sleep(1);
        CompletableFuture<List<RequestOutput>> waiting = run(engine, request("waiting", 5, Deadlines.NONE));
        while (engine.stats().waiting() == 0) Thread.sleep(1);
        engine.abortAll(new EngineUnavailableException("going away"));
        assertThat(last(running.get(10, TimeUnit.SECONDS)).finishReason()).isEqualTo(FinishReason.ABORT);
        assertThatThrownBy(() -> waiting.get(10, TimeUnit.SECONDS)).hasCauseInstanceOf(EngineUnavailableException.class)
                .hasMessageContaining("going away");
        awaitIdle(engine);
        assertThat(engine.isServing()).as("still serving after abortAll").isTrue();
    }

    /** The CPU backend, at least 5 ms a step. */
    private record Slow(ComputeBackend inner) implements ComputeBackend {
        @Override public ModelConfig config() { return inner.config(); }
        @Override public int numKvBlocks() { return inner.numKvBlocks(); }
        @Override public int pageSize() { return inner.pageSize(); }
        @Override public String describe() { return "slow " + inner.describe(); }
        @Override public float[][] forward(HybridBatch batch) {
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            return inner.forward(batch);
        }
    }
}
