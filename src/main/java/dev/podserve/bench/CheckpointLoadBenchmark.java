package dev.podserve.bench;

import java.io.IOException;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import dev.podserve.model.CheckpointLoader;
import dev.podserve.model.DummyWeights;
import dev.podserve.model.LoadedCheckpoint;
import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelShapes;
import dev.podserve.model.ModelWeights;
import dev.podserve.model.safetensors.CheckpointWriter;
import dev.podserve.model.safetensors.Dtype;
import dev.podserve.model.safetensors.HalfFloat;
import dev.podserve.model.safetensors.HfTensorNames;
import dev.podserve.model.safetensors.SafetensorsFile;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * Measures how long {@link CheckpointLoader} takes to turn a Llama-3.2-1B-shaped bf16 checkpoint
 * (one 2.5 GB {@code model.safetensors}, random weights) into fp32 weights: once with the file
 * evicted from the page cache where the OS allows it (a server's first start), then several times
 * with it cached (a restart), and once on one thread to show what the parallel conversion buys.
 *
 * <p>The checkpoint is written to a temporary folder, which is deleted at the end whatever happens.
 * Needs about 10 GB of heap: the generated weights and the loaded ones are 5 GB each, never both alive.
 *
 * <p>Usage: {@code CheckpointLoadBenchmark <out.json> [--threads N] [--warm-runs K] [--note TEXT]}; see
 * {@code bench/run-load-bench.sh}.
 */
public final class CheckpointLoadBenchmark {

    private static final long SEED = 20250302L;
    /** Every this-many-th element of each tensor is checked after a load. */
    private static final int SAMPLE_STRIDE = 4099;

    private CheckpointLoadBenchmark() {
    }

    public static void main(String[] args) throws IOException, InterruptedException {
        if (args.length < 1) {
            System.err.println("usage: CheckpointLoadBenchmark <out.json> [--threads N] [--warm-runs K] [--note TEXT]");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        int threads = Runtime.getRuntime().availableProcessors();
        int warmRuns = 3;
        String note = "";
        for (int i = 1; i < args.length; i++) {
            switch (args[i]) {
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                case "--warm-runs" -> warmRuns = Integer.parseInt(args[++i]);
                case "--note" -> note = args[++i];
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        ModelConfig cfg = ModelShapes.llama32OneB();
        Map<String, Object> report = new LinkedHashMap<>();
        report.put("benchmark", "CheckpointLoadBenchmark");
        report.put("date", LocalDate.now().toString());
        report.put("note", note);
        report.put("environment", environment(threads));
        report.put("loadAverageBefore", loadAverage());

        Path dir = Files.createTempDirectory("podserve-load-bench-");
        try {
            float[] samples = writeCheckpoint(cfg, dir, threads, report);
            List<Object> runs = new ArrayList<>();
            System.out.printf("%-28s %8s %8s %10s %10s %12s%n", "run", "threads", "total s", "alloc s", "convert s", "bf16 MB/s");
            boolean evicted = evict(dir.resolve("model.safetensors"));
            runs.add(run(evicted ? "cold (file evicted from page cache)" : "first (eviction unavailable)", dir, cfg, threads, samples));
            for (int i = 0; i < warmRuns; i++) runs.add(run("warm " + (i + 1), dir, cfg, threads, samples));
            if (threads > 1) runs.add(run("warm, one thread", dir, cfg, 1, samples));
            report.put("runs", runs);
        } finally {
            deleteTree(dir);
        }
        report.put("loadAverageAfter", loadAverage());
        if (out.getParent() != null) Files.createDirectories(out.getParent());
        JsonMapper json = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
        Files.writeString(out, json.writeValueAsString(report) + "\n");
        System.out.println("\nwrote " + out.toAbsolutePath());
    }

    /** Generates and writes the checkpoint; returns sampled elements, bf16-rounded, to check each load against. */
    private static float[] writeCheckpoint(ModelConfig cfg, Path dir, int threads, Map<String, Object> report) throws IOException {
        long t0 = System.nanoTime();
        ModelWeights w = DummyWeights.generate(cfg, SEED, threads);
        double generate = (System.nanoTime() - t0) / 1e9;
        long t1 = System.nanoTime();
        Path file = CheckpointWriter.write(w, dir, Dtype.BF16, Long.MAX_VALUE).get(0);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.force(true);
        }
        double write = (System.nanoTime() - t1) / 1e9;
        float[] samples = sample(w);
        for (int i = 0; i < samples.length; i++) samples[i] = HalfFloat.bf16ToFloat(HalfFloat.floatToBf16(samples[i]));
        Map<String, Object> ck = new LinkedHashMap<>();
        ck.put("shape", "llama-3.2-1b (ModelShapes.llama32OneB, tied embeddings)");
        ck.put("parameters", cfg.parameterCount());
        ck.put("dtype", "BF16");
        ck.put("files", 1);
        ck.put("fileBytes", Files.size(file));
        ck.put("fp32Bytes", w.bytes());
        ck.put("memoryMappings", SafetensorsFile.open(file).mappings());
        ck.put("dummyGenerationSeconds", round(generate));
        ck.put("writeSeconds", round(write));
        report.put("checkpoint", ck);
        System.out.printf("wrote %s: %.2f GB bf16 (%d parameters) in %.1f s, after %.1f s generating%n", file,
                Files.size(file) / 1e9, cfg.parameterCount(), write, generate);
        return samples;
    }

    private static float[] sample(ModelWeights w) {
        List<Float> out = new ArrayList<>();
        for (HfTensorNames.Slot s : HfTensorNames.slots(w)) {
            for (int i = 0; i < s.length(); i += SAMPLE_STRIDE) out.add(s.array()[s.offset() + i]);
        }
        float[] a = new float[out.size()];
        for (int i = 0; i < a.length; i++) a[i] = out.get(i);
        return a;
    }

    private static Map<String, Object> run(String name, Path dir, ModelConfig cfg, int threads, float[] samples) {
        System.gc();
        LoadedCheckpoint r = CheckpointLoader.load(dir, cfg, threads);
        float[] got = sample(r.weights());
        for (int i = 0; i < samples.length; i++) {
            if (Float.floatToRawIntBits(got[i]) != Float.floatToRawIntBits(samples[i])) {
                throw new IllegalStateException(name + ": sample " + i + " is " + got[i] + ", expected " + samples[i]);
            }
        }
        double convert = r.seconds() - r.allocationSeconds();
        System.out.printf("%-28s %8d %8.2f %10.2f %10.2f %12.0f%n", name, threads, r.seconds(), r.allocationSeconds(), convert,
                r.megabytesPerSecond());
        Map<String, Object> row = new LinkedHashMap<>();
        row.put("run", name);
        row.put("threads", threads);
        row.put("seconds", round(r.seconds()));
        row.put("openAndAllocateSeconds", round(r.allocationSeconds()));
        row.put("convertSeconds", round(convert));
        row.put("checkpointMbPerSecond", Math.round(r.megabytesPerSecond()));
        row.put("fp32GbPerSecondWritten", round(r.weights().bytes() / 1e9 / r.seconds()));
        row.put("samplesChecked", samples.length);
        return row;
    }

    /**
     * Drops the file's pages from the page cache (GNU dd asks the kernel to with {@code iflag=nocache});
     * this touches only this file, unlike a system-wide cache drop.
     */
    private static boolean evict(Path file) throws InterruptedException {
        try {
            Process p = new ProcessBuilder("dd", "if=" + file, "iflag=nocache", "count=0", "status=none")
                    .redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor() == 0;
        } catch (IOException e) {
            return false;
        }
    }

    private static Map<String, Object> environment(int threads) {
        Map<String, Object> env = new LinkedHashMap<>();
        env.put("java", System.getProperty("java.vm.name") + " " + Runtime.version());
        env.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        env.put("availableProcessors", Runtime.getRuntime().availableProcessors());
        env.put("threads", threads);
        env.put("maxHeapMb", Runtime.getRuntime().maxMemory() >> 20);
        env.put("gc", String.join(", ", ManagementFactory.getGarbageCollectorMXBeans().stream()
                .map(GarbageCollectorMXBean::getName).toList()));
        System.out.println("java " + env.get("java") + ", " + env.get("os") + ", " + threads + " threads, heap "
                + env.get("maxHeapMb") + " MB, " + env.get("gc"));
        return env;
    }

    /** The 1, 5 and 15 minute load averages, which show whether other work shared the machine. */
    private static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "unavailable";
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    private static double round(double v) {
        return Math.round(v * 100) / 100.0;
    }
}
