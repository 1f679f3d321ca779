package dev.podserve.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.DoublePredicate;
import java.util.function.UnaryOperator;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.podserve.attention.AttentionMode;
import dev.podserve.attention.HybridBatch;
import dev.podserve.attention.SmPolicy;
import dev.podserve.attention.StepAttentionChooser;
import dev.podserve.backend.ComputeBackend;
import dev.podserve.backend.cpu.CpuBackend;
import dev.podserve.engine.ArgmaxBackend;
import dev.podserve.engine.Engine;
import dev.podserve.engine.GenerationRequest;
import dev.podserve.engine.RequestOutput;
import dev.podserve.engine.ServingModel;
import dev.podserve.engine.TinyModel;
import dev.podserve.kvcache.KvCacheManager;
import dev.podserve.model.ModelConfig;
import dev.podserve.sampling.SamplingParams;
import dev.podserve.scheduler.ChunkedPrefillScheduler;
import dev.podserve.scheduler.SchedulerSettings;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/** The listener on a real engine over the tiny model, without Spring. */
class EngineMetricsTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String MODEL = "tiny-under-test";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final EngineMetrics metrics = new EngineMetrics(registry);
    private final List<Engine> engines = new ArrayList<>();
    private final AtomicInteger ids = new AtomicInteger();

    @AfterEach
    void close() {
        engines.forEach(Engine::close);
        registry.close();
    }

    private Engine engine(int numBlocks, UnaryOperator<ComputeBackend> wrap) {
        return engine(numBlocks, wrap, null);
    }

    private Engine engine(int numBlocks, UnaryOperator<ComputeBackend> wrap, StepAttentionChooser attention) {
        int pageSize = 16;
        int maxLen = TinyModel.CONFIG.maxPositionEmbeddings();
        ComputeBackend backend = wrap.apply(new CpuBackend(TinyModel.CONFIG, TinyModel.WEIGHTS, numBlocks, pageSize, 2));
        ChunkedPrefillScheduler scheduler = new ChunkedPrefillScheduler(new SchedulerSettings(256, 32, 64, maxLen),
                new KvCacheManager(numBlocks, pageSize), attention);
        Engine engine = new Engine(backend, scheduler, TinyModel.TOKENIZER, maxLen, TinyModel.EOS, metrics);
        engines.add(engine);
        metrics.onModelReady(new ServingModel(MODEL, "embedded", TinyModel.CONFIG, null, TinyModel.TOKENIZER, null,
                engine, backend.describe(), 0));
        return engine;
    }

    private Flux<RequestOutput> submit(Engine engine, int promptLength, int maxTokens) {
        int[] prompt = IntStream.range(0, promptLength).map(i -> 10 + i % 200).toArray();
        SamplingParams params = SamplingParams.builder().temperature(0).maxTokens(maxTokens).ignoreEos(true).build();
        return engine.submit(new GenerationRequest("req-" + ids.incrementAndGet(), prompt, params));
    }

    private PrometheusText scrape() {
        return PrometheusText.parse(registry.scrape() + metrics.scrapeUnregistered());
    }

    private double value(String name, String... labels) {
        String[] all = new String[labels.length + 2];
        all[0] = "model_name";
        all[1] = MODEL;
        System.arraycopy(labels, 0, all, 2, labels.length);
        return scrape().value(name, all);
    }

    private void await(String what, DoublePredicate until, String name, String... labels) throws InterruptedException {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!until.test(value(name, labels))) {
            if (System.nanoTime() > deadline) throw new AssertionError(what + ": " + name + " is " + value(name, labels));
            Thread.sleep(2);
        }
    }

    /**
     * vLLM observes vllm:iteration_tokens_total per step as the prompt tokens completed plus the tokens
     * generated in that step. A prompt-only request (echo with max_tokens 0) generates no token, so a
     * step that only finishes its prompt holds exactly its prompt tokens, and the histogram's sum stays
     * equal to prompt_tokens_total + generation_tokens_total.
     */
    @Test
    void aPromptOnlyRequestAddsItsPromptAndNoGeneratedTokenToTheStep() throws InterruptedException {
        Engine engine = engine(64, b -> b);
        int[] prompt = IntStream.range(0, 10).map(i -> 10 + i).toArray();
        SamplingParams promptOnly = SamplingParams.builder().maxTokens(0).promptLogprobs(1).build();
        engine.submit(new GenerationRequest("prompt-only", prompt, promptOnly)).blockLast(TIMEOUT);
        await("finish reported", v -> v >= 1, "vllm:request_success_total", "finished_reason", "length");

        assertThat(value("vllm:prompt_tokens_total")).isEqualTo(10);
        assertThat(value("vllm:generation_tokens_total")).isZero();
        // One step, holding the 10 prompt tokens and no generated token.
        assertThat(value("vllm:iteration_tokens_total_count")).isEqualTo(1);
        assertThat(value("vllm:iteration_tokens_total_sum"))
                .isEqualTo(value("vllm:prompt_tokens_total") + value("vllm:generation_tokens_total"));
    }

    /**
     * vLLM observes vllm:time_to_first_token_seconds in the iteration that produced the request's first
     * token (IterationStats.update_from_output, is_prefilling), not when the request finishes: a
     * request that has streamed its first tokens is in the histogram while it still runs.
     */
    @Test
    void theFirstTokenIsObservedWhenItComesNotWhenTheRequestEnds() throws InterruptedException {
        Engine engine = engine(256, b -> b);
        Disposable running = submit(engine, 5, 3000).subscribe();
        try {
            await("tokens generated", v -> v >= 3, "vllm:generation_tokens_total");
            assertThat(value("vllm:e2e_request_latency_seconds_count")).as("still running").isZero();
            assertThat(value("vllm:time_to_first_token_seconds_count")).isEqualTo(1);
        } finally {
            running.dispose();
        }
    }

    @Test
    void countsEachPromptOnceAndEveryTokenWhenPreemptionRecomputes() throws InterruptedException {
        // 4 pages of 16 tokens; each request grows to 3 pages, so running them together must preempt.
        Engine engine = engine(4, b -> b);
        int[] prompts = {9, 12, 7, 10};
        int maxTokens = 30;
        Flux.merge(IntStream.of(prompts).mapToObj(p -> submit(engine, p, maxTokens)).toList()).blockLast(TIMEOUT);
        int requests = prompts.length;
        int promptTokens = IntStream.of(prompts).sum();
        int generated = requests * maxTokens;
        // The engine reports a finish just after it completes the request's stream.
        await("every finish reported", v -> v == requests, "vllm:request_success_total", "finished_reason", "length");

        assertThat(engine.stats().preemptions()).as("the scenario must preempt").isPositive();
        assertThat(value("vllm:num_preemptions_total")).isEqualTo(engine.stats().preemptions());
        assertThat(value("vllm:prompt_tokens_total")).isEqualTo(promptTokens);
        assertThat(value("vllm:generation_tokens_total")).isEqualTo(generated);
        assertThat(value("vllm:request_success_total", "finished_reason", "stop")).isZero();
        assertThat(value("vllm:request_success_total", "finished_reason", "abort")).isZero();
        assertThat(value("vllm:iteration_tokens_total_sum")).isEqualTo(promptTokens + generated);
        assertThat(value("vllm:iteration_tokens_total_count")).isEqualTo(engine.stepCount());
        assertThat(value("podserve:step_forward_seconds_count")).isEqualTo(engine.stepCount());
        // Recomputation runs prompt and output again, so the batches held more than one pass needs.
        double scheduled = value("podserve:step_prefill_tokens_sum") + value("podserve:step_decode_tokens_sum");
        assertThat(scheduled).isGreaterThan(promptTokens + generated - requests);
        assertThat(value("vllm:time_to_first_token_seconds_count")).isEqualTo(requests);
        assertThat(value("vllm:e2e_request_latency_seconds_count")).isEqualTo(requests);
        assertThat(value("vllm:request_queue_time_seconds_count")).isEqualTo(requests);
        assertThat(value("vllm:inter_token_latency_seconds_count")).isEqualTo(generated - requests);
        assertThat(value("vllm:request_prompt_tokens_sum")).isEqualTo(promptTokens);
        assertThat(value("vllm:request_generation_tokens_sum")).isEqualTo(generated);
    }

    /**
     * Where each sampled row's token was picked: on the CPU backend every row is sampled on the host
     * with its step; over a backend that takes the argmax itself, greedy requests under ignore_eos
     * never move a row. One row per generated token either way.
     */
    @Test
    void sampledRowsAreCountedByWhereTheirTokenWasPicked() throws InterruptedException {
        Engine host = engine(64, b -> b);
        Flux.merge(submit(host, 9, 12), submit(host, 14, 12)).blockLast(TIMEOUT);
        await("host rows", v -> v == 24, "podserve:sampled_rows_total", "where", "host_with_step");
        assertThat(value("podserve:sampled_rows_total", "where", "device_argmax")).isZero();

        Engine device = engine(64, ArgmaxBackend::new);
        Flux.merge(submit(device, 9, 10), submit(device, 14, 10), submit(device, 5, 10)).blockLast(TIMEOUT);
        await("argmax rows", v -> v == 30, "podserve:sampled_rows_total", "where", "device_argmax");
        assertThat(value("podserve:sampled_rows_total", "where", "host_with_step")).isEqualTo(24);
        assertThat(value("podserve:sampled_rows_total", "where", "host_fetched_late")).isZero();
    }

    /**
     * Prompt scoring is counted by the rows it scored: a prompt of n tokens scores n - 1 of them
     * (the first has nothing before it), across however many chunks (a long prefill takes 64 tokens
     * a step here, so the 300-token prompt takes five), and a request that does not ask scores none.
     */
    @Test
    void scoredPromptRowsAreCounted() throws InterruptedException {
        Engine engine = engine(64, b -> b);
        int[] prompt = IntStream.range(0, 300).map(i -> 10 + i % 200).toArray();
        SamplingParams scoring = SamplingParams.builder().maxTokens(0).promptLogprobs(1).build();
        engine.submit(new GenerationRequest("scored", prompt, scoring)).blockLast(TIMEOUT);
        submit(engine, 40, 3).blockLast(TIMEOUT);
        await("scored rows", v -> v == 299, "podserve:prompt_scored_tokens_total");
        assertThat(value("podserve:prompt_scoring_seconds_count")).isEqualTo(5);
    }

    /**
     * Every step is counted once under its phases and the attention the scheduler chose: the first
     * step prefills both prompts (prefill only, standalone kernel), the long prompt's later chunks
     * run beside the short request's decodes (hybrid, as auto resolves it), and the rest are decodes.
     */
    @Test
    void attentionStepsAreCountedByPhasesAndTheSchedulersChoice() {
        var cfg = TinyModel.CONFIG;
        Engine engine = engine(64, b -> b, new StepAttentionChooser(AttentionMode.POD, SmPolicy.AUTO, cfg.numHeads(),
                cfg.numKvHeads(), cfg.headDim()));
        Flux.merge(submit(engine, 3, 12), submit(engine, 300, 2)).blockLast(TIMEOUT);
        double prefill = value("podserve:attention_steps_total", "phases", "prefill", "mode", "serial", "policy", "none");
        double decode = value("podserve:attention_steps_total", "phases", "decode", "mode", "serial", "policy", "none");
        assertThat(prefill).isPositive();
        assertThat(decode).isPositive();
        List<PrometheusText.Sample> series = scrape().samples.stream()
                .filter(x -> x.name().equals("podserve:attention_steps_total")).toList();
        // Hybrid steps: fused, or (the chunk dwarfing one short decode) on two streams; never the
        // configured pod mode left unresolved.
        double hybrid = 0;
        for (PrometheusText.Sample x : series) {
            if (!x.labels().get("phases").equals("hybrid")) continue;
            assertThat(x.labels().get("mode") + "/" + x.labels().get("policy")).isIn("pod/proportional", "streams/none", "serial/none");
            hybrid += x.value();
        }
        assertThat(hybrid).isGreaterThanOrEqualTo(3);
        assertThat(series.stream().mapToDouble(PrometheusText.Sample::value).sum()).isEqualTo(engine.stepCount());
    }

    /** A backend that profiles: every step's GPU and attention time land in the step's timers. */
    @Test
    void profiledStepsRecordGpuAndAttentionTime() {
        Engine engine = engine(64, b -> new dev.podserve.backend.ForwardingBackend(b) {
            @Override
            public StepProfile lastStepProfile() {
                return new StepProfile(10.0, 4.0);
            }
        });
        submit(engine, 5, 3).blockLast(TIMEOUT);
        String[] prefill = {"phases", "prefill", "mode", "backend", "policy", "none"};
        String[] decode = {"phases", "decode", "mode", "backend", "policy", "none"};
        assertThat(value("podserve:step_gpu_seconds_count", prefill)).isEqualTo(1);
        assertThat(value("podserve:step_attention_seconds_count", decode)).isEqualTo(2);
        assertThat(value("podserve:step_gpu_seconds_sum", decode)).isCloseTo(0.020, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(value("podserve:step_attention_seconds_sum", decode)).isCloseTo(0.008, org.assertj.core.data.Offset.offset(1e-9));
    }

    @Test
    void unprofiledStepsRecordNoStepTimes() {
        Engine engine = engine(64, b -> b);
        submit(engine, 5, 3).blockLast(TIMEOUT);
        assertThat(scrape().samples).noneMatch(x -> x.name().startsWith("podserve:step_attention_seconds"));
    }

    @Test
    void withoutAChooserStepsAreCountedUnderTheBackend() {
        Engine engine = engine(64, b -> b);
        submit(engine, 5, 3).blockLast(TIMEOUT);
        assertThat(value("podserve:attention_steps_total", "phases", "prefill", "mode", "backend", "policy", "none")).isEqualTo(1);
        assertThat(value("podserve:attention_steps_total", "phases", "decode", "mode", "backend", "policy", "none")).isEqualTo(2);
    }

    @Test
    void withoutPreemptionTheBatchesHoldEachTokenOnce() {
        Engine engine = engine(64, b -> b);
        Flux.merge(submit(engine, 20, 6), submit(engine, 3, 9)).blockLast(TIMEOUT);
        assertThat(value("podserve:step_prefill_tokens_sum")).isEqualTo(23);
        assertThat(value("podserve:step_decode_tokens_sum")).isEqualTo(5 + 8);
        assertThat(value("vllm:iteration_tokens_total_sum")).isEqualTo(23 + 15);
    }

    @Test
    void countersAndGaugesMoveWhileARequestRunsAndAnAbortCountsAsAbort() throws InterruptedException {
        Engine engine = engine(256, b -> b);
        Disposable running = submit(engine, 5, 3000).subscribe();
        await("tokens counted before the request ends", v -> v >= 3, "vllm:generation_tokens_total");
        assertThat(value("vllm:num_requests_running")).isEqualTo(1);
        assertThat(value("vllm:num_requests_waiting")).isZero();
        assertThat(value("vllm:kv_cache_usage_perc")).isGreaterThan(0).isLessThanOrEqualTo(1);
        assertThat(value("vllm:prompt_tokens_total")).isEqualTo(5);
        assertThat(value("vllm:e2e_request_latency_seconds_count")).isZero();

        running.dispose();
        await("the abort is counted", v -> v == 1, "vllm:request_success_total", "finished_reason", "abort");
        await("the gauge falls back", v -> v == 0, "vllm:num_requests_running");
        assertThat(value("vllm:kv_cache_usage_perc")).isZero();
        assertThat(value("vllm:request_success_total", "finished_reason", "length")).isZero();
        assertThat(value("vllm:e2e_request_latency_seconds_count")).isEqualTo(1);
        assertThat(value("vllm:request_generation_tokens_sum")).isEqualTo(value("vllm:generation_tokens_total"));
    }

    @Test
    void aFailedRequestIsNoSuccess() throws InterruptedException {
        AtomicInteger failures = new AtomicInteger(1);
        Engine engine = engine(64, b -> new FailingBackend(b, failures));
        assertThat(submit(engine, 4, 3).materialize().blockLast(TIMEOUT).isOnError()).isTrue();
        submit(engine, 4, 3).blockLast(TIMEOUT);
        await("the good request's finish", v -> v == 1, "vllm:request_success_total", "finished_reason", "length");
        assertThat(value("vllm:request_success_total", "finished_reason", "stop")).isZero();
        assertThat(value("vllm:request_success_total", "finished_reason", "abort")).isZero();
        assertThat(value("vllm:e2e_request_latency_seconds_count")).isEqualTo(1);
        assertThat(value("vllm:request_queue_time_seconds_count")).isEqualTo(1);
        assertThat(value("vllm:time_to_first_token_seconds_count")).isEqualTo(1);
    }

    @Test
    void nothingIsRegisteredBeforeTheModelIsReady() {
        metrics.onToken("early", -1);
        assertThat(registry.getMeters()).isEmpty();
        assertThat(metrics.scrapeUnregistered()).isEmpty();
    }

    /** Throws on its first forward passes, as a broken kernel would. */
    private record FailingBackend(ComputeBackend inner, AtomicInteger failuresLeft) implements ComputeBackend {
        @Override public ModelConfig config() { return inner.config(); }
        @Override public int numKvBlocks() { return inner.numKvBlocks(); }
        @Override public int pageSize() { return inner.pageSize(); }
        @Override public String describe() { return "failing " + inner.describe(); }
        @Override public float[][] forward(HybridBatch batch) {
            if (failuresLeft.getAndDecrement() > 0) throw new IllegalStateException("injected fault");
            return inner.forward(batch);
        }
    }
}
