package dev.podserve.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.stream.IntStream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.podserve.backend.ComputeBackend;
import dev.podserve.backend.cpu.CpuBackend;
import dev.podserve.engine.Engine;
import dev.podserve.engine.GenerationRequest;
import dev.podserve.engine.ServingModel;
import dev.podserve.engine.TinyModel;
import dev.podserve.kvcache.KvCacheManager;
import dev.podserve.sampling.SamplingParams;
import dev.podserve.scheduler.ChunkedPrefillScheduler;
import dev.podserve.scheduler.SchedulerSettings;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * vLLM observes vllm:iteration_tokens_total per step as the prompt tokens completed plus the tokens
 * generated in that step. A prompt-only request (echo with max_tokens 0) generates no token, so a
 * step that only finishes its prompt holds exactly its prompt tokens, and the histogram's sum stays
 * equal to prompt_tokens_total + generation_tokens_total.
 */
class PromptOnlyIterationTokensTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private static final String MODEL = "tiny-under-test";

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final EngineMetrics metrics = new EngineMetrics(registry);
    private Engine engine;

    @AfterEach
    void close() {
        if (engine != null) engine.close();
        registry.close();
    }

    private double value(String name, String... labels) {
        String[] all = new String[labels.length + 2];
        all[0] = "model_name";
        all[1] = MODEL;
        System.arraycopy(labels, 0, all, 2, labels.length);
        return PrometheusText.parse(registry.scrape() + metrics.scrapeUnregistered()).value(name, all);
    }

    @Test
    void aPromptOnlyRequestAddsItsPromptAndNoGeneratedTokenToTheStep() throws InterruptedException {
        int pageSize = 16;
        int numBlocks = 64;
        int maxLen = TinyModel.CONFIG.maxPositionEmbeddings();
        ComputeBackend backend = new CpuBackend(TinyModel.CONFIG, TinyModel.WEIGHTS, numBlocks, pageSize, 2);
        ChunkedPrefillScheduler scheduler = new ChunkedPrefillScheduler(new SchedulerSettings(256, 32, 64, maxLen),
                new KvCacheManager(numBlocks, pageSize), null);
        engine = new Engine(backend, scheduler, TinyModel.TOKENIZER, maxLen, TinyModel.EOS, metrics);
        metrics.onModelReady(new ServingModel(MODEL, "embedded", TinyModel.CONFIG, null, TinyModel.TOKENIZER, null,
                engine, backend.describe(), 0));

        int[] prompt = IntStream.range(0, 10).map(i -> 10 + i).toArray();
        SamplingParams promptOnly = SamplingParams.builder().maxTokens(0).promptLogprobs(1).build();
        engine.submit(new GenerationRequest("prompt-only", prompt, promptOnly)).blockLast(TIMEOUT);
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (value("vllm:request_success_total", "finished_reason", "length") < 1) {
            if (System.nanoTime() > deadline) throw new AssertionError("finish never reported");
            Thread.sleep(2);
        }

        assertThat(value("vllm:prompt_tokens_total")).isEqualTo(10);
        assertThat(value("vllm:generation_tokens_total")).isZero();
        // One step, holding the 10 prompt tokens and no generated token.
        assertThat(value("vllm:iteration_tokens_total_count")).isEqualTo(1);
        assertThat(value("vllm:iteration_tokens_total_sum"))
                .isEqualTo(value("vllm:prompt_tokens_total") + value("vllm:generation_tokens_total"));
    }
}
