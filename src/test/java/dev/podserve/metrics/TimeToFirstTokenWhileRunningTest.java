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
import reactor.core.Disposable;

/**
 * vLLM observes vllm:time_to_first_token_seconds in the iteration that produced the request's first
 * token (IterationStats.update_from_output, is_prefilling), not when the request finishes: a
 * request that has streamed its first tokens is in the histogram while it still runs.
 */
class TimeToFirstTokenWhileRunningTest {

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
    void theFirstTokenIsObservedWhenItComesNotWhenTheRequestEnds() throws InterruptedException {
        int pageSize = 16;
        int numBlocks = 256;
        int maxLen = TinyModel.CONFIG.maxPositionEmbeddings();
        ComputeBackend backend = new CpuBackend(TinyModel.CONFIG, TinyModel.WEIGHTS, numBlocks, pageSize, 2);
        ChunkedPrefillScheduler scheduler = new ChunkedPrefillScheduler(new SchedulerSettings(256, 32, 64, maxLen),
                new KvCacheManager(numBlocks, pageSize), null);
        engine = new Engine(backend, scheduler, TinyModel.TOKENIZER, maxLen, TinyModel.EOS, metrics);
        metrics.onModelReady(new ServingModel(MODEL, "embedded", TinyModel.CONFIG, null, TinyModel.TOKENIZER, null,
                engine, backend.describe(), 0));

        int[] prompt = IntStream.range(0, 5).map(i -> 10 + i).toArray();
        SamplingParams params = SamplingParams.builder().temperature(0).maxTokens(3000).ignoreEos(true).build();
        Disposable running = engine.submit(new GenerationRequest("long", prompt, params)).subscribe();
        try {
            long deadline = System.nanoTime() + TIMEOUT.toNanos();
            while (value("vllm:generation_tokens_total") < 3) {
                if (System.nanoTime() > deadline) throw new AssertionError("no tokens");
                Thread.sleep(2);
            }
            assertThat(value("vllm:e2e_request_latency_seconds_count")).as("still running").isZero();
            assertThat(value("vllm:time_to_first_token_seconds_count")).isEqualTo(1);
        } finally {
            running.dispose();
        }
    }
}
