package dev.podserve.bench.serve;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import tools.jackson.databind.node.ObjectNode;

/**
 * The aggregate of one run: counts, throughputs over the run's wall time, and the latency
 * statistics in milliseconds. Throughputs count successful requests only (vLLM does the same).
 *
 * @param durationS from the first send to the last response's end
 */
public record BenchmarkSummary(int completed, int failed, double durationS, long totalInputTokens, long totalOutputTokens,
        double requestThroughput, double outputThroughput, double totalTokenThroughput, LatencyStats ttftMs,
        LatencyStats tpotMs, LatencyStats itlMs, LatencyStats e2elMs) {

    public static BenchmarkSummary of(List<RequestResult> results, double durationS) {
        int completed = 0;
        long in = 0;
        long out = 0;
        List<Double> ttft = new ArrayList<>();
        List<Double> tpot = new ArrayList<>();
        List<Double> itl = new ArrayList<>();
        List<Double> e2el = new ArrayList<>();
        for (RequestResult r : results) {
            if (!r.success()) continue;
            completed++;
            in += r.promptTokens();
            out += r.outputTokens();
            ttft.add(r.ttft() * 1e3);
            if (!Double.isNaN(r.tpot())) tpot.add(r.tpot() * 1e3);
            for (double gap : r.itl()) itl.add(gap * 1e3);
            e2el.add(r.latency() * 1e3);
        }
        double d = durationS > 0 ? durationS : Double.MIN_VALUE;
        return new BenchmarkSummary(completed, results.size() - completed, durationS, in, out, completed / d, out / d,
                (in + out) / d, stats(ttft), stats(tpot), stats(itl), stats(e2el));
    }

    private static LatencyStats stats(List<Double> values) {
        return LatencyStats.of(values.stream().mapToDouble(Double::doubleValue).toArray());
    }

    /** Field names follow vllm bench serve's JSON where it has one, so existing scripts read both. */
    public void writeTo(ObjectNode node) {
        node.put("completed", completed);
        node.put("failed", failed);
        node.put("duration", durationS);
        node.put("total_input_tokens", totalInputTokens);
        node.put("total_output_tokens", totalOutputTokens);
        node.put("request_throughput", requestThroughput);
        node.put("output_throughput", outputThroughput);
        node.put("total_token_throughput", totalTokenThroughput);
        putStats(node, "ttft", ttftMs);
        putStats(node, "tpot", tpotMs);
        putStats(node, "itl", itlMs);
        putStats(node, "e2el", e2elMs);
    }

    private static void putStats(ObjectNode node, String name, LatencyStats s) {
        node.put("mean_" + name + "_ms", s.mean());
        node.put("median_" + name + "_ms", s.median());
        node.put("p90_" + name + "_ms", s.p90());
        node.put("p99_" + name + "_ms", s.p99());
        node.put("min_" + name + "_ms", s.min());
        node.put("max_" + name + "_ms", s.max());
        node.put("std_" + name + "_ms", s.std());
    }

    /** A table in the shape vllm bench serve prints. */
    public String format(String title) {
        StringBuilder sb = new StringBuilder();
        String rule = "=".repeat(60) + "\n";
        sb.append(String.format(Locale.ROOT, "%s%s%n%s", rule, center(title), rule));
        line(sb, "Successful requests:", Integer.toString(completed));
        line(sb, "Failed requests:", Integer.toString(failed));
        line(sb, "Benchmark duration (s):", fmt(durationS));
        line(sb, "Total input tokens:", Long.toString(totalInputTokens));
        line(sb, "Total generated tokens:", Long.toString(totalOutputTokens));
        line(sb, "Request throughput (req/s):", fmt(requestThroughput));
        line(sb, "Output token throughput (tok/s):", fmt(outputThroughput));
        line(sb, "Total token throughput (tok/s):", fmt(totalTokenThroughput));
        block(sb, "Time to First Token", "TTFT", ttftMs);
        block(sb, "Time per Output Token (excl. 1st token)", "TPOT", tpotMs);
        block(sb, "Inter-token Latency", "ITL", itlMs);
        block(sb, "End-to-end Latency", "E2EL", e2elMs);
        sb.append(rule);
        return sb.toString();
    }

    private static void block(StringBuilder sb, String title, String name, LatencyStats s) {
        String dashes = "-".repeat(Math.max(0, (60 - title.length() - 2) / 2));
        sb.append(dashes).append(' ').append(title).append(' ').append(dashes).append('\n');
        line(sb, "Mean " + name + " (ms):", fmt(s.mean()));
        line(sb, "Median " + name + " (ms):", fmt(s.median()));
        line(sb, "P90 " + name + " (ms):", fmt(s.p90()));
        line(sb, "P99 " + name + " (ms):", fmt(s.p99()));
    }

    private static void line(StringBuilder sb, String label, String value) {
        sb.append(String.format(Locale.ROOT, "%-40s%20s%n", label, value));
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.2f", v);
    }

    private static String center(String title) {
        int pad = Math.max(0, (60 - title.length()) / 2);
        return " ".repeat(pad) + title;
    }
}
