package dev.podserve.bench.serve;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import dev.podserve.config.EngineHolder;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The CI smoke test of {@code bench serve}: the benchmark against the CPU backend with the embedded
 * default model, short. It asserts that runs complete, every request succeeds and the JSON has its
 * fields; never a speed (CI machines vary, and performance lives in benchmarks, not tests).
 *
 * <p>Same Spring configuration as the API tests, so the cached application context is reused.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ServeBenchmarkSmokeTest {

    private static final String[] STAT_FIELDS = {"ttft", "tpot", "itl", "e2el"};

    @LocalServerPort
    int port;

    @Autowired
    EngineHolder holder;

    @TempDir
    Path tmp;

    @BeforeAll
    void modelReady() throws InterruptedException {
        holder.await();
    }

    private JsonNode runAndWrite(String... args) throws Exception {
        ServeBenchmarkOptions o = ServeBenchmarkOptions.parse(args);
        o.url = "http://localhost:" + port;
        o.out = tmp.resolve("result.json");
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        var result = ServeBenchmark.run(o, new PrintStream(log, true, StandardCharsets.UTF_8));
        ServeBenchmark.write(result, o);
        String printed = log.toString(StandardCharsets.UTF_8);
        System.out.print(printed);
        return JsonMapper.builder().build().readTree(Files.readString(o.out));
    }

    private static void assertSummary(JsonNode summary, int requests) {
        assertThat(summary.path("completed").asInt()).as("completed in %s", summary).isEqualTo(requests);
        assertThat(summary.path("failed").asInt()).isZero();
        assertThat(summary.path("total_output_tokens").asLong()).isPositive();
        assertThat(summary.path("request_throughput").asDouble()).isPositive();
        assertThat(summary.path("output_throughput").asDouble()).isPositive();
        for (String s : STAT_FIELDS) {
            for (String p : new String[] {"mean_", "median_", "p90_", "p99_"}) {
                assertThat(summary.has(p + s + "_ms")).as("%s%s_ms", p, s).isTrue();
            }
        }
        assertThat(summary.path("median_ttft_ms").asDouble()).isPositive();
    }

    @Test
    void randomWorkloadWithPoissonArrivalsOverCompletions() throws Exception {
        JsonNode json = runAndWrite("--workload", "random", "--input-len", "8:48", "--output-len", "4:16", "--num-requests", "10",
                "--rate", "20", "--burstiness", "0.5", "--max-concurrency", "4", "--detailed");
        assertThat(json.path("config").path("model").asString()).isEqualTo("podserve-tiny");
        assertThat(json.path("config").path("prompt_format").asString()).isEqualTo("token_ids");
        assertSummary(json.path("summary"), 10);
        // Flat as vllm bench serve's result file too, std fields and the load's knobs included.
        assertSummary(json, 10);
        assertThat(json.path("std_ttft_ms").isNumber()).isTrue();
        assertThat(json.path("request_rate").asString()).isEqualTo("20.0");
        assertThat(json.path("max_concurrency").asInt()).isEqualTo(4);
        JsonNode requests = json.path("requests");
        assertThat(requests).hasSize(10);
        for (JsonNode r : requests) {
            assertThat(r.path("success").asBoolean()).as("request %s", r).isTrue();
            // Token-id prompts are exact, and ignore_eos makes the outputs exactly max_tokens long.
            assertThat(r.path("prompt_tokens").asInt()).isBetween(8, 48);
            assertThat(r.path("output_tokens").asInt()).isBetween(4, 16);
            assertThat(r.path("itl_ms").isArray()).isTrue();
        }
    }

    @Test
    void mixedWorkloadOverChatAllAtOnce() throws Exception {
        JsonNode json = runAndWrite("--endpoint", "chat", "--workload", "mixed", "--scale", "32", "--long-fraction", "0.3",
                "--num-requests", "6", "--seed", "4", "--temperature", "0.8", "--top-p", "0.9");
        assertThat(json.path("config").path("endpoint").asString()).isEqualTo("/v1/chat/completions");
        assertThat(json.path("config").path("temperature").asDouble()).isEqualTo(0.8);
        assertThat(json.path("config").path("top_p").asDouble()).isEqualTo(0.9);
        assertSummary(json.path("summary"), 6);
    }

    @Test
    void tinyCapacitySearch() throws Exception {
        // SLOs no CPU run can miss: the search must double through every rate up to the maximum.
        JsonNode json = runAndWrite("--capacity-search", "--input-len", "8:16", "--output-len", "4:8", "--num-requests", "4",
                "--search-start-rate", "8", "--search-max-rate", "16", "--search-steps", "1",
                "--slo-p99-itl-ms", "1e9", "--slo-median-ttft-ms", "1e9");
        JsonNode search = json.path("capacity_search");
        assertThat(search.path("capacity_request_rate").asDouble()).isEqualTo(16.0);
        assertThat(search.path("probes")).hasSize(2);
        for (JsonNode probe : search.path("probes")) {
            assertThat(probe.path("meets_slo").asBoolean()).isTrue();
            assertSummary(probe.path("summary"), 4);
        }
    }

    @Test
    void capacityLadderProbesTheGivenRatesInOrder() throws Exception {
        JsonNode json = runAndWrite("--capacity-search", "--input-len", "8:16", "--output-len", "4:8", "--num-requests", "3",
                "--search-rates", "16, 8", "--slo-p99-itl-ms", "1e9", "--slo-median-ttft-ms", "1e9");
        JsonNode search = json.path("capacity_search");
        assertThat(search.path("capacity_request_rate").asDouble()).isEqualTo(16.0);
        assertThat(search.path("probes")).extracting(p -> p.path("request_rate").asDouble()).containsExactly(8.0, 16.0);
    }
}
