package dev.podserve.bench.serve;

import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code bench serve}: a load generator for any OpenAI-compatible server, in the manner of
 * {@code vllm bench serve}. It streams a generated workload at a chosen arrival process, prints
 * throughput and latency statistics, optionally searches for the capacity under latency SLOs, and
 * writes everything as JSON. See {@link ServeBenchmarkOptions#usage()} for the flags.
 */
public final class ServeBenchmark {

    private static final ObjectMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    private ServeBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        if (Arrays.asList(args).contains("--help") || Arrays.asList(args).contains("-h")) {
            System.out.print(ServeBenchmarkOptions.usage());
            return;
        }
        ServeBenchmarkOptions options;
        try {
            options = ServeBenchmarkOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.err.print(ServeBenchmarkOptions.usage());
            System.exit(2);
            return;
        }
        ObjectNode result = run(options, System.out);
        if (options.out != null) write(result, options);
        // Exit non-zero when requests failed, so scripts notice a broken server instead of reading zeros.
        boolean anyFailed = result.path("summary").path("failed").asInt(0) > 0;
        System.exit(anyFailed && !options.capacitySearch ? 1 : 0);
    }

    /** Runs what the options ask for, prints to {@code log}, and returns the JSON result. */
    public static ObjectNode run(ServeBenchmarkOptions o, java.io.PrintStream log) throws Exception {
        String model = o.model != null ? o.model : StreamingClient.firstModel(o.url, o.apiKey);
        StreamingClient client = new StreamingClient(o.url, o.endpoint, model, o.apiKey, Duration.ofSeconds(o.timeoutS),
                o.temperature, o.topP).withExtras(o.extraBody, o.checkJson);
        BenchmarkRunner runner = new BenchmarkRunner(client, o.maxConcurrency);
        List<BenchRequest> requests = o.workloadGenerator().generate(o.numRequests, o.seed);

        ObjectNode root = JSON.createObjectNode();
        root.put("date", Instant.now().toString());
        ObjectNode config = root.putObject("config");
        config.put("url", o.url);
        config.put("endpoint", o.endpoint.path);
        config.put("model", model);
        config.put("workload", o.workload.cliName());
        config.put("num_requests", o.numRequests);
        // Only the knobs the chosen workload reads, so a result file never shows a length it did not use.
        if (o.workload == WorkloadKind.RANDOM) {
            config.put("input_len", o.inputLen.toString());
            config.put("output_len", o.outputLen.toString());
        } else {
            config.put("scale", o.scale);
        }
        if (o.workload == WorkloadKind.MIXED) config.put("long_fraction", o.longFraction);
        if (o.prefixLen > 0) config.put("prefix_len", o.prefixLen);
        config.put("prompt_format", o.tokenIdPrompts() ? "token_ids" : "text");
        config.put("request_rate", o.capacitySearch ? "capacity search" : Double.isInfinite(o.rate) ? "inf" : Double.toString(o.rate));
        config.put("burstiness", o.burstiness);
        config.put("max_concurrency", o.maxConcurrency);
        config.put("seed", o.seed);
        if (o.extraBody != null) config.set("extra_body", o.extraBody);
        config.put("temperature", o.temperature);
        if (o.topP < 1) config.put("top_p", o.topP);

        if (!o.capacitySearch) {
            log.printf(Locale.ROOT, "%s: %d %s requests to %s%s (%s), rate %s, burstiness %.2f, max concurrency %s%n",
                    model, requests.size(), o.workload.cliName(), o.url, o.endpoint.path, o.tokenIdPrompts() ? "token ids" : "text",
                    Double.isInfinite(o.rate) ? "inf" : Double.toString(o.rate), o.burstiness,
                    o.maxConcurrency > 0 ? Integer.toString(o.maxConcurrency) : "none");
            BenchmarkRunner.Run run = runner.run(requests, ArrivalSchedule.offsets(requests.size(), o.rate, o.burstiness, o.seed + 1));
            log.print(run.summary().format("Serving Benchmark Result"));
            reportFailures(run.results(), log);
            ObjectNode summary = root.putObject("summary");
            run.summary().writeTo(summary);
            // vllm bench serve's result file is one flat object: the same fields at the top level too,
            // so a script written for it reads this file unchanged.
            run.summary().writeTo(root);
            root.set("request_rate", config.get("request_rate"));
            root.set("burstiness", config.get("burstiness"));
            root.set("max_concurrency", o.maxConcurrency > 0 ? config.get("max_concurrency") : null);
            if (o.checkJson) {
                long valid = run.results().stream().filter(r -> Boolean.TRUE.equals(r.validJson())).count();
                long checked = run.results().stream().filter(r -> r.validJson() != null).count();
                log.printf(Locale.ROOT, "outputs that are one JSON value: %d of %d completed%n", valid, checked);
                summary.put("valid_json", valid).put("checked_json", checked);
            }
            writeRequests(root.putArray("requests"), run.results(), o.detailed);
            return root;
        }

        CapacitySearch search = o.searchRates != null
                ? CapacitySearch.ladder(o.sloP99ItlMs, o.sloMedianTtftMs, o.searchRates)
                : new CapacitySearch(o.sloP99ItlMs, o.sloMedianTtftMs, o.searchStartRate, o.searchMaxRate, o.searchSteps);
        log.printf(Locale.ROOT, "capacity search: P99 ITL <= %.1f ms, median TTFT <= %.1f ms, %d requests a probe%n",
                o.sloP99ItlMs, o.sloMedianTtftMs, requests.size());
        ObjectNode cap = root.putObject("capacity_search");
        cap.put("slo_p99_itl_ms", o.sloP99ItlMs);
        cap.put("slo_median_ttft_ms", o.sloMedianTtftMs);
        ArrayNode probes = cap.putArray("probes");
        int[] probe = {0};
        CapacitySearch.Result found = search.search(rate -> {
            // Fresh prompts for every probe: a server with prefix caching (vLLM's default) would
            // otherwise answer later probes from the cache and look faster than it is.
            List<BenchRequest> probeRequests = probe[0]++ == 0 ? requests
                    : o.workloadGenerator().generate(o.numRequests, o.seed + 7919L * (probe[0] - 1));
            BenchmarkRunner.Run run = runner.run(probeRequests,
                    ArrivalSchedule.offsets(probeRequests.size(), rate, o.burstiness, o.seed + 1));
            BenchmarkSummary s = run.summary();
            boolean ok = search.meetsSlo(s);
            log.printf(Locale.ROOT, "  rate %8.3f req/s: P99 ITL %8.2f ms, median TTFT %8.2f ms, failed %d -> %s%n", rate,
                    s.itlMs().p99(), s.ttftMs().median(), s.failed(), ok ? "meets SLO" : "misses SLO");
            ObjectNode node = probes.addObject();
            node.put("request_rate", rate);
            node.put("meets_slo", ok);
            s.writeTo(node.putObject("summary"));
            // Each probe can take minutes: keep what is done on disk in case the run is cut short.
            if (o.out != null) {
                try {
                    write(root, o);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }
            return s;
        });
        log.printf(Locale.ROOT, "capacity under the SLOs: %.3f req/s%n", found.capacity());
        cap.put("capacity_request_rate", found.capacity());
        return root;
    }

    private static void reportFailures(List<RequestResult> results, java.io.PrintStream log) {
        results.stream().filter(r -> !r.success()).limit(5)
                .forEach(r -> log.printf(Locale.ROOT, "request %d failed: %s%n", r.index(), r.error()));
    }

    private static void writeRequests(ArrayNode array, List<RequestResult> results, boolean detailed) {
        for (RequestResult r : results) {
            ObjectNode node = array.addObject();
            node.put("index", r.index());
            node.put("kind", r.kind());
            node.put("success", r.success());
            if (r.error() != null) node.put("error", r.error());
            node.put("sent_at_s", r.sentAt());
            node.put("prompt_tokens", r.promptTokens());
            node.put("output_tokens", r.outputTokens());
            node.put("ttft_ms", r.ttft() * 1e3);
            // NaN is not JSON: a one-token output has no TPOT.
            if (Double.isNaN(r.tpot())) node.putNull("tpot_ms");
            else node.put("tpot_ms", r.tpot() * 1e3);
            node.put("e2el_ms", r.latency() * 1e3);
            if (detailed) {
                ArrayNode itl = node.putArray("itl_ms");
                for (double gap : r.itl()) itl.add(gap * 1e3);
            }
        }
    }

    static void write(ObjectNode result, ServeBenchmarkOptions o) throws IOException {
        if (o.out.getParent() != null) Files.createDirectories(o.out.getParent());
        Files.writeString(o.out, JSON.writeValueAsString(result) + "\n");
    }
}
