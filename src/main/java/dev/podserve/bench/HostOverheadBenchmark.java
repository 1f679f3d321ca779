package dev.podserve.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;

import dev.podserve.attention.HybridBatch;
import dev.podserve.bench.serve.LatencyStats;
import dev.podserve.backend.ComputeBackend;
import dev.podserve.engine.Engine;
import dev.podserve.engine.EngineListener;
import dev.podserve.engine.GenerationRequest;
import dev.podserve.kvcache.KvCacheManager;
import dev.podserve.model.GenerationConfig;
import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelFolder;
import dev.podserve.sampling.DeviceDraw;
import dev.podserve.sampling.SamplingParams;
import dev.podserve.scheduler.ChunkedPrefillScheduler;
import dev.podserve.scheduler.SchedulerOutput;
import dev.podserve.scheduler.SchedulerSettings;
import dev.podserve.tokenizer.HfTokenizer;

import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * {@code bench host}: the engine's own time between steps, with no GPU. A simulated device stands
 * in for the backend: its forward pass parks the engine thread for {@code --step-ms} (the GPU's
 * time, leaving the host's cores free, as the CUDA backend does), takes each row's "argmax" from
 * a fixed rule, and builds a logits row only where the engine asks for one, as the CUDA backend
 * copies one. Everything else is podserve's: the scheduler, the engine loop, sampling, stop
 * checks, detokenization (the embedded model's tokenizer), the metrics listener's hook and the
 * outputs' delivery to subscribers on other threads.
 *
 * <p>Each case runs {@code --decodes} requests to {@code --steps} tokens and reports, over the
 * steps where all of them decode, the host's gap between the end of one forward pass and the
 * start of the next, and the forward pass's time beyond the simulated device time (building the
 * rows the host asked for). Cases: greedy; greedy with {@code ignore_eos} (what {@code bench
 * serve} sends; the simulated argmax lands on an EOS every {@value #EOS_EVERY} tokens, which comes
 * out and generation goes on); greedy with {@code min_tokens} over the whole length, where those
 * EOS argmaxes are banned and their rows fetched after the step; and sampled at temperature 0.8
 * (also under ignore_eos), drawn on the device as the CUDA backend does ({@code sampled-t0.8}), or
 * with every row on the host as before the device drew ({@code sampled-t0.8-host}).
 *
 * <p>The GPU's own host work (planning, launches, copies) is not here: that is in the step trace of
 * a real run. What is here is the part that scales with the requests, measured in seconds on any
 * machine.
 */
public final class HostOverheadBenchmark {

    /** Every this many tokens a row's simulated argmax is an EOS id. */
    static final int EOS_EVERY = 37;

    private HostOverheadBenchmark() {
    }

    static final class Options {
        int decodes = 22;
        int vocab = 128_256;
        double stepMs = 20;
        int steps = 300;
        Path out;

        static Options parse(String[] args) {
            Options o = new Options();
            Flags.parse(args, usage(), (flag, v) -> {
                switch (flag) {
                    case "--decodes" -> o.decodes = Integer.parseInt(v);
                    case "--vocab" -> o.vocab = Integer.parseInt(v);
                    case "--step-ms" -> o.stepMs = Double.parseDouble(v);
                    case "--steps" -> o.steps = Integer.parseInt(v);
                    case "--out" -> o.out = Path.of(v);
                    default -> throw new IllegalArgumentException("unknown flag " + flag + "\n" + usage());
                }
            });
            if (o.decodes < 1 || o.steps < 2 || o.stepMs < 0) throw new IllegalArgumentException("need --decodes >= 1, --steps >= 2, --step-ms >= 0");
            if (o.vocab < 512) throw new IllegalArgumentException("--vocab must be at least 512 (the embedded tokenizer's ids must fit)");
            return o;
        }

        static String usage() {
            return "usage: HostOverheadBenchmark [--decodes 22] [--vocab 128256] [--step-ms 20] [--steps 300] [--out FILE.json]";
        }
    }

    /** One case's result; milliseconds. */
    record Result(String name, int fullSteps, double gapMean, double gapMedian, double gapP90, double gapP99,
                  double forwardBeyondDeviceMean, long rowsWithStep, long rowsLate, long rowsDrawn) {
    }

    public static void main(String[] args) throws Exception {
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        List<Result> results = run(o);
        for (Result r : results) {
            System.out.printf(Locale.ROOT, "%-18s %4d steps  host gap mean %.3f  median %.3f  P90 %.3f  P99 %.3f ms"
                            + "  forward beyond device %.3f ms  rows with the step %d, fetched late %d, drawn on the device %d%n",
                    r.name(), r.fullSteps(), r.gapMean(), r.gapMedian(), r.gapP90(), r.gapP99(), r.forwardBeyondDeviceMean(),
                    r.rowsWithStep(), r.rowsLate(), r.rowsDrawn());
        }
        if (o.out != null) write(o, results);
    }

    static List<Result> run(Options o) throws IOException {
        ModelFolder folder = ModelFolder.embeddedDefault();
        HfTokenizer tokenizer = HfTokenizer.load(folder.dir());
        ModelConfig tiny = ModelConfig.load(folder.configJson());
        int[] eos = GenerationConfig.load(folder.generationConfigJson()).eosIdsWith(tiny);
        List<Result> results = new ArrayList<>();
        // Plain greedy must never meet an EOS, or its requests would stop early.
        results.add(one(o, tokenizer, eos, "greedy", 0, true, SamplingParams.builder().temperature(0).maxTokens(o.steps).build()));
        results.add(one(o, tokenizer, eos, "greedy-ignore-eos", EOS_EVERY, true,
                SamplingParams.builder().temperature(0).maxTokens(o.steps).ignoreEos(true).build()));
        results.add(one(o, tokenizer, eos, "greedy-min-tokens", EOS_EVERY, true,
                SamplingParams.builder().temperature(0).maxTokens(o.steps).minTokens(o.steps).build()));
        SamplingParams sampled = SamplingParams.builder().temperature(0.8).seed(7L).maxTokens(o.steps).ignoreEos(true).build();
        results.add(one(o, tokenizer, eos, "sampled-t0.8", EOS_EVERY, true, sampled));
        results.add(one(o, tokenizer, eos, "sampled-t0.8-host", EOS_EVERY, false, sampled));
        return results;
    }

    private static Result one(Options o, HfTokenizer tokenizer, int[] eos, String name, int eosEvery, boolean deviceDraws,
                              SamplingParams params) {
        int pageSize = 16;
        int prompt = 24;
        int pagesEach = (prompt + o.steps + pageSize) / pageSize + 1;
        SimulatedDevice device = new SimulatedDevice(o.vocab, o.decodes * pagesEach + 8, pageSize,
                (long) (o.stepMs * 1e6), eos, eosEvery, deviceDraws);
        ChunkedPrefillScheduler scheduler = new ChunkedPrefillScheduler(
                new SchedulerSettings(Math.max(512, o.decodes), o.decodes, 512, prompt + o.steps + 16),
                new KvCacheManager(device.numKvBlocks(), pageSize));
        GapRecorder gaps = new GapRecorder(o.decodes);
        try (Engine engine = new Engine(device, scheduler, tokenizer, prompt + o.steps + 16, eos, gaps)) {
            List<Flux<Integer>> streams = new ArrayList<>();
            for (int r = 0; r < o.decodes; r++) {
                int[] ids = new int[prompt];
                for (int i = 0; i < prompt; i++) ids[i] = 32 + (r * 7 + i * 3) % 90;
                // Subscribers on other threads, as a connection's event loop is.
                streams.add(engine.submit(new GenerationRequest(name + "-" + r, ids, params))
                        .publishOn(Schedulers.parallel()).map(out -> out.tokenIds().length));
            }
            Long tokens = Flux.merge(streams).reduce(0L, (a, b) -> a + b).block(Duration.ofMinutes(10));
            if (tokens == null || tokens != (long) o.decodes * o.steps) {
                throw new IllegalStateException(name + ": " + tokens + " tokens came out, expected " + (long) o.decodes * o.steps);
            }
        }
        LatencyStats g = LatencyStats.of(gaps.fullGapsMs());
        return new Result(name, g.count(), g.mean(), g.median(), g.p90(), g.p99(),
                gaps.meanFullForwardMs() - o.stepMs, device.rowsWithStep.get(), device.rowsLate.get(), device.rowsDrawn.get());
    }

    private static void write(Options o, List<Result> results) throws IOException {
        ObjectMapper json = new ObjectMapper();
        ObjectNode root = json.createObjectNode();
        root.put("what", "bench host: the engine's time between steps over a simulated device");
        root.put("cpus", Runtime.getRuntime().availableProcessors());
        root.put("java", System.getProperty("java.version"));
        root.put("decodes", o.decodes).put("vocab", o.vocab).put("step_ms", o.stepMs).put("steps", o.steps);
        ArrayNode rows = root.putArray("cases");
        for (Result r : results) {
            rows.addObject().put("case", r.name()).put("full_steps", r.fullSteps()).put("host_gap_ms_mean", r.gapMean())
                    .put("host_gap_ms_median", r.gapMedian()).put("host_gap_ms_p90", r.gapP90())
                    .put("host_gap_ms_p99", r.gapP99()).put("forward_beyond_device_ms_mean", r.forwardBeyondDeviceMean())
                    .put("rows_with_step", r.rowsWithStep()).put("rows_fetched_late", r.rowsLate())
                    .put("rows_drawn_on_device", r.rowsDrawn());
        }
        if (o.out.toAbsolutePath().getParent() != null) Files.createDirectories(o.out.toAbsolutePath().getParent());
        Files.writeString(o.out, json.writerWithDefaultPrettyPrinter().writeValueAsString(root));
    }

    /** Host gaps before, and forward times of, the steps in which every request decodes. */
    static final class GapRecorder implements EngineListener {
        private final int decodes;
        private long previousEnd = -1;
        private final List<Double> gapsMs = new ArrayList<>();
        private double forwardMsSum;

        GapRecorder(int decodes) {
            this.decodes = decodes;
        }

        @Override
        public synchronized void onStep(SchedulerOutput output, long forwardNanos) {
            long end = System.nanoTime();
            long start = end - forwardNanos;
            HybridBatch b = output.batch();
            if (previousEnd >= 0 && b.numPrefillRequests() == 0 && b.numDecodeRequests() == decodes) {
                gapsMs.add((start - previousEnd) / 1e6);
                forwardMsSum += forwardNanos / 1e6;
            }
            previousEnd = end;
        }

        synchronized double[] fullGapsMs() {
            // The first full steps warm the JIT: leave out a tenth.
            int skip = gapsMs.size() / 10;
            return gapsMs.subList(skip, gapsMs.size()).stream().mapToDouble(Double::doubleValue).toArray();
        }

        synchronized double meanFullForwardMs() {
            return gapsMs.isEmpty() ? Double.NaN : forwardMsSum / gapsMs.size();
        }
    }

    /**
     * The backend: parks for the device time, then answers with an argmax per row and only the rows
     * asked for (a peak at the argmax over a flat floor, so host sampling agrees with it), plus the
     * late fetch of a withheld row; when it draws, a drawn row's token is its peak unless the draw bans
     * it (then the first printable id it does not). Holds no KV: nothing reads it.
     */
    static final class SimulatedDevice implements ComputeBackend {
        private final ModelConfig config;
        private final int numBlocks;
        private final int pageSize;
        private final long stepNanos;
        private final int[] eos;
        private final int eosEvery;
        private final AtomicLong tokensOut = new AtomicLong();
        final AtomicLong rowsWithStep = new AtomicLong();
        final AtomicLong rowsLate = new AtomicLong();
        final AtomicLong rowsDrawn = new AtomicLong();
        private final boolean draws;
        /** [rows][vocab] reused host rows, as the CUDA backend reuses its own. */
        private float[][] rows = new float[0][];

        /** @param eosEvery every this many tokens the argmax is an EOS id; 0: never */
        SimulatedDevice(int vocab, int numBlocks, int pageSize, long stepNanos, int[] eos, int eosEvery, boolean draws) {
            this.draws = draws;
            this.config = new ModelConfig("LlamaForCausalLM", vocab, 64, 128, 1, 4, 2, 16, 1e-5f, 10000.0, 1 << 20,
                    false, 1, eos.clone());
            this.numBlocks = numBlocks;
            this.pageSize = pageSize;
            this.stepNanos = stepNanos;
            this.eos = eos.clone();
            this.eosEvery = eosEvery;
        }

        @Override
        public ModelConfig config() {
            return config;
        }

        @Override
        public int numKvBlocks() {
            return numBlocks;
        }

        @Override
        public int pageSize() {
            return pageSize;
        }

        @Override
        public String describe() {
            return "simulated device (" + stepNanos / 1e6 + " ms a step)";
        }

        @Override
        public boolean usesHostCores() {
            return false;
        }

        @Override
        public boolean drawsOnDevice() {
            return draws;
        }

        @Override
        public StepOutput forwardForSampling(HybridBatch batch, boolean[] needLogits, DeviceDraw[] drawsOfStep) {
            StepOutput out = forwardForSampling(batch, needLogits);
            int[] drawn = new int[needLogits.length];
            for (int s = 0; s < drawn.length; s++) {
                drawn[s] = -1;
                if (drawsOfStep[s] == null) continue;
                int token = out.argmax()[s];
                for (int t = 32; drawsOfStep[s].bans(token); t++) token = t;
                drawn[s] = token;
                rowsDrawn.incrementAndGet();
            }
            return new StepOutput(out.logits(), out.argmax(), out.lateRow(), drawn);
        }

        @Override
        public float[][] forward(HybridBatch batch) {
            int S = batch.sampleRequests().length;
            boolean[] all = new boolean[S];
            Arrays.fill(all, true);
            return forwardForSampling(batch, all).logits();
        }

        @Override
        public StepOutput forwardForSampling(HybridBatch batch, boolean[] needLogits) {
            int S = batch.sampleRequests().length;
            if (rows.length < S) rows = Arrays.copyOf(rows, S);
            parkFor(stepNanos);
            int[] argmax = new int[S];
            for (int s = 0; s < S; s++) {
                long n = tokensOut.incrementAndGet();
                // Printable byte tokens of the embedded tokenizer; an EOS id now and then.
                argmax[s] = eosEvery > 0 && n % eosEvery == 0 && eos.length > 0 ? eos[0] : 32 + (int) (n * 31 % 90);
            }
            float[][] out = new float[S][];
            for (int s = 0; s < S; s++) {
                if (needLogits[s]) {
                    out[s] = row(s, argmax[s]);
                    rowsWithStep.incrementAndGet();
                }
            }
            return new StepOutput(out, argmax, s -> {
                rowsLate.incrementAndGet();
                return row(s, argmax[s]);
            });
        }

        private float[] row(int s, int peak) {
            if (rows[s] == null) rows[s] = new float[config.vocabSize()];
            float[] x = rows[s];
            Arrays.fill(x, -30f);
            // A little mass on the other printable bytes, so sampling has a distribution to shape.
            for (int t = 32; t < 122; t++) x[t] = -4f;
            x[peak] = 4f;
            return x;
        }

        private static void parkFor(long nanos) {
            long until = System.nanoTime() + nanos;
            for (long left = nanos; left > 0; left = until - System.nanoTime()) {
                LockSupport.parkNanos(left);
            }
        }
    }
}
