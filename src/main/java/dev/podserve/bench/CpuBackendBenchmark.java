package dev.podserve.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import dev.podserve.attention.HybridBatch;
import dev.podserve.backend.cpu.CpuBackend;
import dev.podserve.backend.cpu.CpuMatmul;
import dev.podserve.backend.cpu.ReferenceMatmul;
import dev.podserve.model.DummyWeights;
import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelShapes;
import dev.podserve.model.ModelWeights;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * Measures the CPU backend: (a) the matmul kernel in GFLOP/s against the naive triple loop, at
 * decode-like and prefill-like token counts on Llama-3.2-1B projection shapes; (b) forward-step
 * throughput in query tokens per second for prefill-heavy, decode-heavy and mixed hybrid batches
 * on the tiny default model and on a Llama-3.2-1B-shaped dummy model (needs about 6 GB of heap).
 *
 * <p>Every number is the median of several timed runs after warm-up runs. KV context for decodes
 * is addressed but never prefilled: attention cost depends on the context length, not on what the
 * cache holds, and prefilling 32 x 256 tokens of a 1B model would take minutes on a small machine.
 *
 * <p>Usage: {@code CpuBackendBenchmark <out.json> [--threads N] [--skip-1b] [--note TEXT]}; see
 * {@code bench/run-cpu-bench.sh}.
 */
public final class CpuBackendBenchmark {

    private static final long DUMMY_SEED = 20250302L;
    private static final int PAGE_SIZE = 16;

    private CpuBackendBenchmark() {
    }

    /** One hybrid batch shape: prefill chunks (length, starting position) and decodes at a context. */
    private record BatchShape(String name, int[] prefillChunks, int decodes, int decodeContext) {
        int tokens() {
            return Arrays.stream(prefillChunks).sum() + decodes;
        }
    }

    private static final List<BatchShape> BATCHES = List.of(
            new BatchShape("prefill-heavy: one 512-token chunk", new int[] {512}, 0, 0),
            new BatchShape("decode-heavy: 32 decodes at context 256", new int[0], 32, 256),
            new BatchShape("mixed: 256-token chunk + 16 decodes at context 256", new int[] {256}, 16, 256));

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: CpuBackendBenchmark <out.json> [--threads N] [--skip-1b] [--note TEXT]");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        int threads = Runtime.getRuntime().availableProcessors();
        boolean skip1b = false;
        String note = "";
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--skip-1b" -> skip1b = true;
                case "--note" -> note = args[++i];
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }

        Map<String, Object> report = new LinkedHashMap<>();
        report.put("benchmark", "CpuBackendBenchmark");
        report.put("date", LocalDate.now().toString());
        report.put("note", note);
        report.put("environment", environment(threads));
        report.put("matmul", matmulSection(threads));

        List<Object> backend = new ArrayList<>();
        backend.add(backendSection("podserve-tiny", ModelShapes.tiny(), threads, 3, 7));
        if (skip1b) {
            System.out.println("\nskipping the Llama-3.2-1B-shaped model (--skip-1b)");
        } else if (Runtime.getRuntime().maxMemory() < 7L << 30) {
            System.out.println("\nskipping the Llama-3.2-1B-shaped model: needs -Xmx7g or more, have "
                    + (Runtime.getRuntime().maxMemory() >> 20) + " MB");
        } else {
            backend.add(backendSection("llama-3.2-1b-shape (dummy)", ModelShapes.llama32OneB(), threads, 1, 3));
        }
        report.put("backend", backend);

        if (out.getParent() != null) Files.createDirectories(out.getParent());
        JsonMapper json = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
        Files.writeString(out, json.writeValueAsString(report) + "\n");
        System.out.println("\nwrote " + out.toAbsolutePath());
    }

    private static Map<String, Object> environment(int threads) {
        Map<String, Object> env = new LinkedHashMap<>();
        env.put("java", System.getProperty("java.vm.name") + " " + Runtime.version());
        env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        env.put("availableProcessors", Runtime.getRuntime().availableProcessors());
        env.put("threads", threads);
        env.put("maxHeapMb", Runtime.getRuntime().maxMemory() >> 20);
        try (CpuMatmul mm = new CpuMatmul(threads)) {
            env.put("kernels", mm.describe());
        }
        System.out.println("java " + env.get("java") + ", " + env.get("os") + ", " + threads + " threads, kernels "
                + env.get("kernels"));
        return env;
    }

    // ---- (a) matmul ----

    private static List<Object> matmulSection(int threads) {
        int[][] shapes = {{1, 2048, 2048}, {16, 2048, 2048}, {256, 2048, 2048}, {1, 8192, 2048}, {16, 8192, 2048},
                {256, 8192, 2048}};
        System.out.println("\nmatmul y[T][N] = x[T][K] . W[N][K]^T, GFLOP/s (median)");
        System.out.printf("%5s %6s %6s | %12s %12s %14s %10s | %8s%n", "T", "N", "K", "vector " + threads + "t",
                "vector 1t", "scalar " + threads + "t", "naive 1t", "speedup");
        List<Object> rows = new ArrayList<>();
        Random rnd = new Random(1);
        try (CpuMatmul vec = new CpuMatmul(threads); CpuMatmul vec1 = new CpuMatmul(1);
             CpuMatmul scalar = CpuMatmul.scalarFallback(threads)) {
            for (int[] s : shapes) {
                int T = s[0];
                int N = s[1];
                int K = s[2];
                float[] x = randomArray(rnd, T * K);
                float[] w = randomArray(rnd, N * K);
                float[] y = new float[T * N];
                double flops = 2.0 * T * N * K;
                double v = flops / seconds(() -> vec.multiply(x, T, K, w, N, y)) / 1e9;
                double v1 = flops / seconds(() -> vec1.multiply(x, T, K, w, N, y)) / 1e9;
                double sc = flops / seconds(() -> scalar.multiply(x, T, K, w, N, y)) / 1e9;
                double nv = flops / seconds(() -> ReferenceMatmul.naive(x, T, K, w, N, y)) / 1e9;
                System.out.printf("%5d %6d %6d | %12.1f %12.1f %14.1f %10.2f | %7.1fx%n", T, N, K, v, v1, sc, nv, v / nv);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("T", T);
                row.put("N", N);
                row.put("K", K);
                row.put("vectorGflops", round(v));
                row.put("vectorOneThreadGflops", round(v1));
                row.put("scalarFallbackGflops", round(sc));
                row.put("naiveOneThreadGflops", round(nv));
                row.put("vectorSpeedupOverNaive", round(v / nv));
                rows.add(row);
            }
        }
        return rows;
    }

    /**
     * Median seconds of one call: warm-up calls, then timed calls, as many as fit a budget that
     * shrinks for slow calls (the naive loop at T=256 takes seconds), at least three.
     */
    private static double seconds(Runnable call) {
        long warmUntil = System.nanoTime() + 300_000_000L;
        int warm = 0;
        do {
            call.run();
            warm++;
        } while (warm < 2 && System.nanoTime() < warmUntil || warm < 1);
        List<Double> times = new ArrayList<>();
        long budgetEnd = System.nanoTime() + 1_500_000_000L;
        while (times.size() < 3 || (times.size() < 15 && System.nanoTime() < budgetEnd)) {
            long t0 = System.nanoTime();
            call.run();
            times.add((System.nanoTime() - t0) / 1e9);
        }
        return median(times);
    }

    // ---- (b) backend steps ----

    private static Map<String, Object> backendSection(String name, ModelConfig cfg, int threads, int warmups, int runs) {
        System.out.println("\n" + name + ": " + cfg.parameterCount() / 1_000_000 + "M parameters, fp32");
        long g0 = System.nanoTime();
        ModelWeights w = DummyWeights.generate(cfg, DUMMY_SEED, threads);
        double genSeconds = (System.nanoTime() - g0) / 1e9;
        System.out.printf("dummy weights generated in %.2f s (%d MB)%n", genSeconds, w.bytes() >> 20);
        int blocks = 0;
        for (BatchShape b : BATCHES) blocks = Math.max(blocks, pagesFor(b));
        Map<String, Object> section = new LinkedHashMap<>();
        section.put("model", name);
        section.put("parameters", cfg.parameterCount());
        section.put("dummyWeightGenerationSeconds", round(genSeconds));
        List<Object> rows = new ArrayList<>();
        try (CpuBackend backend = new CpuBackend(cfg, w, blocks, PAGE_SIZE, threads)) {
            section.put("backend", backend.describe());
            System.out.printf("%-52s %7s %10s %12s %10s%n", "batch", "tokens", "step ms", "tokens/s", "GFLOP/s");
            for (BatchShape shape : BATCHES) {
                HybridBatch batch = build(shape, cfg.vocabSize());
                for (int i = 0; i < warmups; i++) backend.forward(batch);
                List<Double> times = new ArrayList<>();
                for (int i = 0; i < runs; i++) {
                    long t0 = System.nanoTime();
                    backend.forward(batch);
                    times.add((System.nanoTime() - t0) / 1e9);
                }
                double sec = median(times);
                double flops = stepFlops(cfg, batch);
                System.out.printf("%-52s %7d %10.1f %12.1f %10.1f%n", shape.name, shape.tokens(), sec * 1e3,
                        shape.tokens() / sec, flops / sec / 1e9);
                Map<String, Object> row = new LinkedHashMap<>();
                row.put("batch", shape.name);
                row.put("queryTokens", shape.tokens());
                row.put("warmupRuns", warmups);
                row.put("timedRuns", runs);
                row.put("medianStepMs", round(sec * 1e3));
                row.put("tokensPerSecond", round(shape.tokens() / sec));
                row.put("modelGflopPerStep", round(flops / 1e9));
                row.put("achievedGflops", round(flops / sec / 1e9));
                row.put("allStepMs", times.stream().map(t -> round(t * 1e3)).toList());
                rows.add(row);
            }
        }
        section.put("steps", rows);
        return section;
    }

    private static int pagesFor(BatchShape b) {
        int pages = 0;
        for (int len : b.prefillChunks) pages += (len + PAGE_SIZE - 1) / PAGE_SIZE;
        return pages + b.decodes * ((b.decodeContext + PAGE_SIZE - 1) / PAGE_SIZE);
    }

    /** Prefill chunks start at position 0 and end their prompts (sampled); decodes sit at the end of their context. */
    private static HybridBatch build(BatchShape shape, int vocab) {
        Random rnd = new Random(2);
        int r = shape.prefillChunks.length + shape.decodes;
        int tokens = shape.tokens();
        int[] ids = new int[tokens];
        int[] positions = new int[tokens];
        int[] qo = new int[r + 1];
        int[] kv = new int[r + 1];
        int[] last = new int[r];
        List<Integer> pages = new ArrayList<>();
        int row = 0;
        for (int i = 0; i < r; i++) {
            boolean prefill = i < shape.prefillChunks.length;
            int len = prefill ? shape.prefillChunks[i] : 1;
            int ctx = prefill ? len : shape.decodeContext;
            for (int j = 0; j < len; j++) {
                ids[row] = rnd.nextInt(vocab);
                positions[row++] = ctx - len + j;
            }
            int n = (ctx + PAGE_SIZE - 1) / PAGE_SIZE;
            for (int p = 0; p < n; p++) pages.add(pages.size());
            qo[i + 1] = row;
            kv[i + 1] = pages.size();
            last[i] = ctx - (n - 1) * PAGE_SIZE;
        }
        int[] sample = new int[r];
        for (int i = 0; i < r; i++) sample[i] = i;
        return new HybridBatch(ids, positions, qo, kv, pages.stream().mapToInt(Integer::intValue).toArray(), last,
                sample, shape.prefillChunks.length, shape.decodes, PAGE_SIZE);
    }

    /** Model flops of a step: 2 per weight per query row, the LM head per sampled row, QK and PV per context position. */
    static double stepFlops(ModelConfig cfg, HybridBatch b) {
        double h = cfg.hiddenSize();
        double perTokenLayer = 2 * h * (cfg.qDim() + 2.0 * cfg.kvDim()) + 2 * cfg.qDim() * h
                + 2 * h * 2.0 * cfg.intermediateSize() + 2.0 * cfg.intermediateSize() * h;
        double flops = perTokenLayer * cfg.numLayers() * b.numTokens();
        for (int p : b.positions()) flops += 4.0 * (p + 1) * cfg.qDim() * cfg.numLayers();
        flops += 2.0 * cfg.vocabSize() * h * b.sampleRequests().length;
        return flops;
    }

    private static float[] randomArray(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = rnd.nextFloat() * 2 - 1;
        return a;
    }

    private static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
