package dev.podserve.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;

import dev.podserve.attention.HybridBatch;
import dev.podserve.backend.cuda.CublasGemm;
import dev.podserve.backend.cuda.CudaBackend;
import dev.podserve.backend.cuda.CudaOptions;
import dev.podserve.backend.cuda.CudaContext;
import dev.podserve.backend.cuda.KernelModule;
import dev.podserve.backend.cuda.LayerKernels;
import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelShapes;
import dev.podserve.kvcache.KvCacheManager;
import dev.podserve.sampling.Sampler;
import dev.podserve.sampling.SamplingParams;
import dev.podserve.sampling.SamplingState;
import dev.podserve.scheduler.ChunkedPrefillScheduler;
import dev.podserve.scheduler.ScheduledSequence;
import dev.podserve.scheduler.SchedulerOutput;
import dev.podserve.scheduler.SchedulerSettings;
import dev.podserve.scheduler.Sequence;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * Times whole decode steps of the CUDA backend on a Llama-3-8B-shaped dummy model (weights drawn on
 * the device), and the host's share of a serving step.
 *
 * <p>Part 1, the model decode step: B decode requests, each at context 2048 on its own KV pages,
 * for B in {1, 16, 64, 128}, once with CUDA graphs (the server's default) and once with eager
 * launches, in the same run. A step is {@code backend.forward(batch)} by wall clock, logits copy
 * back to the host included. Decode is memory bound, so each step is judged by model-bandwidth
 * utilisation: the bf16 weight bytes plus the KV bytes a step must read, per second, over the
 * device-to-device copy bandwidth measured in the same run (a 1 GiB {@code cuMemcpyDtoDAsync} timed
 * with events, read + written bytes counted, as GPU.md counts them). The KV cache is addressed but
 * never prefilled: attention reads 2048 keys per request whatever they hold.
 *
 * <p>Part 2, host overhead per step: the engine's step loop without HTTP (scheduler, forward,
 * greedy sampling, step completion) over B real requests with 2000-token random prompts, prefilled
 * through the backend and then decoded 48 steps. Each decode step's wall time is split into GPU
 * time (CUDA events around the step's launches) and the rest: the host's share is
 * {@code 1 - gpu / wall}, everything the GPU waits for (Java scheduling, planning, the index upload,
 * launches, the logits copy, sampling).
 *
 * <p>Needs a GPU with about 50 GB free. Usage: {@code CudaDecodeBenchmark <out.json>}.
 */
public final class CudaDecodeBenchmark {

    private static final long DUMMY_SEED = 20250302L;
    private static final int PAGE_SIZE = 16;
    private static final int CONTEXT = 2048;
    /** Overridable for a profiler run: -Dpodserve.bench.batches=1,16 -Dpodserve.bench.modes=eager -Dpodserve.bench.engine=false. */
    private static final int[] BATCHES = java.util.Arrays.stream(System.getProperty("podserve.bench.batches", "1,16,64,128")
            .split(",")).mapToInt(Integer::parseInt).toArray();
    private static final List<String> MODES = List.of(System.getProperty("podserve.bench.modes", "graph,eager").split(","));
    private static final boolean ENGINE = Boolean.parseBoolean(System.getProperty("podserve.bench.engine", "true"));
    /** podserve.attention.skinny-gemm-rows settings timed one after the other (4: the skinny kernel up to 4 rows, 0: cuBLAS). */
    private static final int[] SKINNY_ROWS = java.util.Arrays.stream(System.getProperty("podserve.bench.skinny-rows", "4,0")
            .split(",")).mapToInt(Integer::parseInt).toArray();
    /**
     * Programmatic dependent launch on and off (podserve.cuda.pdl, read when a backend's context
     * opens), timed one after the other: what starting the decode chain's kernels early buys.
     */
    private static final List<Boolean> PDL = java.util.Arrays.stream(System.getProperty("podserve.bench.pdl", "true")
            .split(",")).map(Boolean::parseBoolean).toList();
    /**
     * The decode kernel merging its own split rows, and the merge launched after it
     * (podserve.cuda.merge-in-decode, read when a backend is built), timed one after the other.
     */
    private static final List<Boolean> MERGE_IN_DECODE = java.util.Arrays.stream(
            System.getProperty("podserve.bench.merge-in-decode", "true").split(",")).map(Boolean::parseBoolean).toList();
    private static final int[] ENGINE_BATCHES = {1, 16, 64};
    private static final int ENGINE_PROMPT = 2000;
    private static final int ENGINE_DECODE_STEPS = 64;
    private static final int ENGINE_WARM_STEPS = 16;
    private static final int PREFILL_BUDGET = 2048;
    private static final int WARMUPS = 40;
    private static final int RUNS = 25;
    private static final long COPY_BYTES = 1L << 30;

    private CudaDecodeBenchmark() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: CudaDecodeBenchmark <out.json>");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        Optional<String> unavailable = CudaBackend.unavailableReason();
        if (unavailable.isPresent()) {
            System.err.println("no CUDA device: " + unavailable.get());
            System.exit(1);
        }
        ModelConfig cfg = ModelShapes.llama3EightB();
        int maxBatch = java.util.Arrays.stream(BATCHES).max().orElse(1);
        int pagesPerRequest = CONTEXT / PAGE_SIZE;
        List<Object> rows = new ArrayList<>();
        double copyTbps = 0;
        double launchUs = 0;
        double gemmUs = 0;
        for (boolean graphs : new boolean[] {true, false}) {
            if (!MODES.contains(graphs ? "graph" : "eager")) continue;
            for (int skinnyRows : SKINNY_ROWS) for (boolean pdl : PDL) for (boolean mergeInDecode : MERGE_IN_DECODE) {
                // Exactly the pages the largest batch addresses: every request owns CONTEXT / PAGE_SIZE of them.
                CudaOptions options = new CudaOptions(PREFILL_BUDGET, maxBatch, PAGE_SIZE, maxBatch * pagesPerRequest,
                        0, 0, graphs).withSkinnyGemmRows(skinnyRows);
                long u0 = System.nanoTime();
                CudaBackend backend = withProperty("podserve.cuda.pdl", pdl, () -> withProperty("podserve.cuda.merge-in-decode",
                        mergeInDecode, () -> CudaBackend.withDummyWeights(cfg, DUMMY_SEED, options)));
                double buildSeconds = (System.nanoTime() - u0) / 1e9;
                System.out.printf("%nbackend built with %d M dummy parameters generated on the device in %.2f s: %s, CUDA graphs %s,"
                        + " skinny GEMM up to %d rows, programmatic dependent launch %s, split rows merged %s%n",
                        cfg.parameterCount() / 1_000_000, buildSeconds, backend.describe(), graphs ? "on" : "off", skinnyRows,
                        backend.context().programmaticLaunch() ? "on" : "off", mergeInDecode ? "in the decode kernel" : "by a launch");
                try (backend) {
                    CudaContext ctx = backend.context();
                    if (copyTbps == 0) {
                        copyTbps = copyBandwidthTbps(ctx);
                        launchUs = trivialLaunchMicros(ctx);
                        gemmUs = tinyGemmMicros(ctx);
                        System.out.printf("device-to-device copy (cuMemcpyDtoDAsync, %d MiB, read + written): %.3f TB/s%n",
                                COPY_BYTES >> 20, copyTbps);
                        System.out.printf("host cost: %.2f us per trivial kernel launch, %.2f us per tiny cublasGemmEx call%n",
                                launchUs, gemmUs);
                    }
                    List<Object> part = new ArrayList<>(decodeSteps(backend, cfg, pagesPerRequest, copyTbps, launchUs, gemmUs, buildSeconds,
                            graphs, skinnyRows, mergeInDecode));
                    if (graphs && ENGINE) {
                        part.addAll(engineSteps(backend, cfg, copyTbps, true));
                        part.addAll(engineSteps(backend, cfg, copyTbps, false));
                    }
                    for (Object r : part) {
                        @SuppressWarnings("unchecked")
                        Map<String, Object> row = (Map<String, Object>) r;
                        row.put("skinny_gemm_rows", skinnyRows);
                        row.put("programmatic_launch", backend.context().programmaticLaunch());
                        row.put("merge_in_decode", mergeInDecode);
                    }
                    rows.addAll(part);
                }
            }
        }

        if (out.getParent() != null) Files.createDirectories(out.getParent());
        JsonMapper json = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
        Files.writeString(out, json.writeValueAsString(rows) + "\n");
        System.out.println("\nwrote " + out.toAbsolutePath());
    }

    /** Runs {@code open} with system property {@code name} set to {@code value}, then puts the property back. */
    private static <T> T withProperty(String name, boolean value, java.util.function.Supplier<T> open) {
        String before = System.getProperty(name);
        System.setProperty(name, Boolean.toString(value));
        try {
            return open.get();
        } finally {
            if (before == null) System.clearProperty(name);
            else System.setProperty(name, before);
        }
    }

    /** Part 1: synthetic decode-only steps at context 2048. */
    private static List<Object> decodeSteps(CudaBackend backend, ModelConfig cfg, int pagesPerRequest, double copyTbps,
                                            double launchUs, double gemmUs, double buildSeconds, boolean graphs, int skinnyRows,
                                            boolean mergeInDecode) {
        CudaContext ctx = backend.context();
        String card = ctx.name();
        long weightBytes = weightBytesPerStep(cfg);
        List<Object> rows = new ArrayList<>();
        System.out.printf("%n%5s %9s %9s %10s %10s %8s %8s %10s%n", "B", "step ms", "GPU ms", "weight GB", "KV GB", "TB/s",
                "util", "host");
        for (int b : BATCHES) {
            HybridBatch batch = decodeBatch(b, cfg.vocabSize(), pagesPerRequest);
            for (int i = 0; i < WARMUPS; i++) backend.forward(batch);
            List<Double> times = new ArrayList<>();
            List<Double> gpu = new ArrayList<>();
            List<CudaBackend.StepTiming> parts = new ArrayList<>();
            for (int i = 0; i < RUNS; i++) {
                long t0 = System.nanoTime();
                backend.forward(batch);
                times.add((System.nanoTime() - t0) / 1e9);
                parts.add(backend.lastStepTiming());
                gpu.add(backend.lastStepTiming().gpuMillis() / 1e3);
            }
            double sec = median(times);
            double gpuSec = median(gpu);
            long stepWeights = weightBytes + 2L * b * cfg.hiddenSize(); // plus the B embedding rows gathered
            long kvBytes = kvBytesPerStep(cfg, b);
            double tbps = (stepWeights + kvBytes) / sec / 1e12;
            double util = tbps / copyTbps;
            double hostFraction = Math.max(0, 1 - gpuSec / sec);
            int[] calls = callsPerStep(cfg, b <= skinnyRows, !mergeInDecode);
            System.out.printf("%5d %9.3f %9.3f %10.2f %10.2f %8.3f %7.1f%% %9.1f%%   %s%n", b, sec * 1e3, gpuSec * 1e3,
                    stepWeights / 1e9, kvBytes / 1e9, tbps, util * 100, hostFraction * 100, breakdown(parts));

            Map<String, Object> row = new LinkedHashMap<>();
            row.put("config", "llama-3-8b dummy, B=" + b + " decodes at context " + CONTEXT + (graphs ? ", CUDA graph" : ", eager"));
            row.put("kernel", "model decode step");
            row.put("mode", graphs ? "cuda-graph" : "eager");
            row.put("ms", round(sec * 1e3, 3));
            row.put("gpu_ms", round(gpuSec * 1e3, 3));
            row.put("tbps", round(tbps, 3));
            row.put("bandwidth_utilisation", round(util, 3));
            row.put("gpu_bandwidth_utilisation", round((stepWeights + kvBytes) / gpuSec / 1e12 / copyTbps, 3));
            row.put("host_overhead_fraction", round(hostFraction, 3));
            row.put("host_overhead_method", "1 - (CUDA-event time from first to last launch) / (wall time of forward())");
            row.put("host_breakdown_ms", breakdown(parts));
            row.put("pytorch_ms", null);
            row.put("card", card);
            row.put("batch", b);
            row.put("context", CONTEXT);
            row.put("page_size", PAGE_SIZE);
            row.put("weight_bytes_per_step", stepWeights);
            row.put("kv_bytes_per_step", kvBytes);
            row.put("copy_tbps", round(copyTbps, 3));
            row.put("copy_method", "cuMemcpyDtoDAsync of 1 GiB, event-timed median of 10, read + written bytes");
            row.put("kernel_launches_per_step", calls[0]);
            row.put("cublas_calls_per_step", calls[1]);
            row.put("host_us_per_launch", round(launchUs, 2));
            row.put("host_us_per_cublas_call", round(gemmUs, 2));
            row.put("warmup_runs", WARMUPS);
            row.put("timed_runs", RUNS);
            row.put("all_step_ms", times.stream().map(t -> round(t * 1e3, 3)).toList());
            row.put("backend_build_seconds_with_device_dummy_weights", round(buildSeconds, 2));
            rows.add(row);
        }
        return rows;
    }

    /**
     * Part 2: the engine's step loop (schedule, forward, greedy sample, complete) without HTTP over B
     * requests of ENGINE_PROMPT random tokens: prefill through the backend, then decode steps, of
     * which those after ENGINE_WARM_STEPS are measured.
     */
    private static List<Object> engineSteps(CudaBackend backend, ModelConfig cfg, double copyTbps, boolean deviceArgmax) {
        List<Object> rows = new ArrayList<>();
        String how = deviceArgmax ? "argmax on the device, no logits copied" : "logits copied, sampler on the host";
        System.out.printf("%nengine step loop (schedule + forward + greedy sampling: %s), prompts of %d tokens%n", how,
                ENGINE_PROMPT);
        System.out.printf("%5s %9s %9s %9s %9s %9s %9s%n", "B", "step ms", "GPU ms", "sched ms", "sample ms", "host %",
                "prefill s");
        Random rnd = new Random(7);
        for (int b : ENGINE_BATCHES) {
            // Room for the tokens of the mixed steps while the last prompts finish, too.
            int maxLen = ENGINE_PROMPT + 4 * ENGINE_DECODE_STEPS;
            KvCacheManager kv = new KvCacheManager(backend.numKvBlocks(), PAGE_SIZE);
            ChunkedPrefillScheduler scheduler = new ChunkedPrefillScheduler(
                    new SchedulerSettings(PREFILL_BUDGET, Math.max(b, 1), 0, maxLen), kv);
            List<Sequence> seqs = new ArrayList<>();
            Map<Sequence, SamplingState> states = new java.util.HashMap<>();
            SamplingParams greedy = SamplingParams.builder().temperature(0).maxTokens(maxLen).build();
            for (int r = 0; r < b; r++) {
                int[] prompt = new int[ENGINE_PROMPT];
                for (int i = 0; i < prompt.length; i++) prompt[i] = rnd.nextInt(cfg.vocabSize());
                Sequence s = new Sequence("bench-" + b + "-" + r, prompt);
                seqs.add(s);
                states.put(s, new SamplingState(greedy, prompt, new int[0], cfg.vocabSize()));
                scheduler.add(s);
            }
            Sampler sampler = new Sampler();
            long p0 = System.nanoTime();
            List<Double> wall = new ArrayList<>();
            List<Double> gpu = new ArrayList<>();
            List<Double> sched = new ArrayList<>();
            List<Double> sample = new ArrayList<>();
            List<CudaBackend.StepTiming> parts = new ArrayList<>();
            int decodeSteps = 0;
            double prefillSeconds = 0;
            while (decodeSteps < ENGINE_DECODE_STEPS) {
                long t0 = System.nanoTime();
                SchedulerOutput so = scheduler.schedule();
                long t1 = System.nanoTime();
                List<Sequence> sampled = so.scheduled().stream().filter(ScheduledSequence::sample).map(ScheduledSequence::sequence)
                        .toList();
                int[] tokens = new int[sampled.size()];
                long t2;
                if (deviceArgmax) {
                    // As the engine does for plain greedy requests: the backend's argmax, no rows copied.
                    int[] argmax = backend.forwardForSampling(so.batch(), new boolean[sampled.size()]).argmax();
                    t2 = System.nanoTime();
                    System.arraycopy(argmax, 0, tokens, 0, tokens.length);
                } else {
                    float[][] logits = backend.forward(so.batch());
                    t2 = System.nanoTime();
                    // As the engine samples rows that need it: the full sampler, rows in parallel, then in order.
                    java.util.stream.IntStream.range(0, sampled.size()).parallel()
                            .forEach(i -> tokens[i] = sampler.sample(logits[i], states.get(sampled.get(i))).token());
                }
                scheduler.onStepComplete(so);
                for (int i = 0; i < tokens.length; i++) {
                    sampled.get(i).appendToken(tokens[i]);
                    states.get(sampled.get(i)).accept(tokens[i]);
                }
                long t3 = System.nanoTime();
                boolean decodeOnly = so.batch().numPrefillRequests() == 0;
                if (!decodeOnly) continue;
                if (decodeSteps == 0) prefillSeconds = (t0 - p0) / 1e9;
                decodeSteps++;
                if (decodeSteps <= ENGINE_WARM_STEPS) continue;
                wall.add((t3 - t0) / 1e6);
                gpu.add(backend.lastStepTiming().gpuMillis());
                parts.add(backend.lastStepTiming());
                sched.add((t1 - t0) / 1e6);
                sample.add((t3 - t2) / 1e6);
            }
            for (Sequence s : seqs) scheduler.finish(s);
            double w = median(wall);
            double g = median(gpu);
            double host = Math.max(0, 1 - g / w);
            System.out.printf("%5d %9.3f %9.3f %9.3f %9.3f %8.1f%% %9.1f%n", b, w, g, median(sched), median(sample), host * 100,
                    prefillSeconds);
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("config", "llama-3-8b dummy, engine step loop (" + how + "), B=" + b + " requests, prompts of "
                    + ENGINE_PROMPT + " tokens, decode steps " + (ENGINE_WARM_STEPS + 1) + ".." + ENGINE_DECODE_STEPS);
            row.put("kernel", "engine decode step (host overhead)");
            row.put("mode", "cuda-graph");
            row.put("ms", round(w, 3));
            row.put("gpu_ms", round(g, 3));
            row.put("schedule_ms", round(median(sched), 3));
            row.put("sample_ms", round(median(sample), 3));
            row.put("host_overhead_fraction", round(host, 3));
            row.put("host_overhead_method", "1 - (CUDA-event time of the step's launches) / (wall time of schedule + forward"
                    + " + greedy sampling + step completion)");
            row.put("forward_breakdown_ms", breakdown(parts));
            // Context of the measured steps: the prompt plus about the mean number of tokens generated by then.
            int context = ENGINE_PROMPT + (ENGINE_WARM_STEPS + ENGINE_DECODE_STEPS) / 2;
            long bytes = weightBytesPerStep(cfg) + 2L * b * cfg.hiddenSize() + 2L * 2 * b * context * cfg.numLayers() * cfg.kvDim();
            double tbps = bytes / (w / 1e3) / 1e12;
            row.put("kv_context_tokens_estimate", context);
            row.put("bandwidth_utilisation", round(tbps / copyTbps, 3));
            row.put("tbps", round(tbps, 3));
            row.put("pytorch_ms", null);
            row.put("card", backend.context().name());
            row.put("batch", b);
            row.put("prefill_seconds", round(prefillSeconds, 2));
            row.put("copy_tbps", round(copyTbps, 3));
            rows.add(row);
        }
        return rows;
    }

    /** Medians of forward()'s phases, in ms. */
    private static Map<String, Object> breakdown(List<CudaBackend.StepTiming> parts) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("prepare", round(median(parts.stream().map(p -> p.prepNanos() / 1e6).toList()), 3));
        m.put("enqueue", round(median(parts.stream().map(p -> p.enqueueNanos() / 1e6).toList()), 3));
        m.put("wait_for_gpu", round(median(parts.stream().map(p -> p.waitNanos() / 1e6).toList()), 3));
        m.put("logits_to_host", round(median(parts.stream().map(p -> p.copyNanos() / 1e6).toList()), 3));
        m.put("gpu", round(median(parts.stream().map(CudaBackend.StepTiming::gpuMillis).toList()), 3));
        return m;
    }

    /** B decodes at the end of a CONTEXT-token context each; request r owns pages r*n .. r*n+n-1, so none share. */
    private static HybridBatch decodeBatch(int b, int vocab, int pagesPerRequest) {
        Random rnd = new Random(2);
        int[] ids = new int[b];
        int[] positions = new int[b];
        int[] qo = new int[b + 1];
        int[] kv = new int[b + 1];
        int[] last = new int[b];
        int[] pages = new int[b * pagesPerRequest];
        int[] sample = new int[b];
        for (int r = 0; r < b; r++) {
            ids[r] = rnd.nextInt(vocab);
            positions[r] = CONTEXT - 1;
            qo[r + 1] = r + 1;
            kv[r + 1] = (r + 1) * pagesPerRequest;
            last[r] = CONTEXT - (pagesPerRequest - 1) * PAGE_SIZE;
            for (int p = 0; p < pagesPerRequest; p++) pages[r * pagesPerRequest + p] = r * pagesPerRequest + p;
            sample[r] = r;
        }
        return new HybridBatch(ids, positions, qo, kv, pages, last, sample, 0, b, PAGE_SIZE);
    }

    /**
     * bf16 bytes of every weight a decode step streams: all layer matrices and norms, the final norm
     * and the untied LM head. The embedding table is not counted: a step gathers only B of its rows.
     */
    static long weightBytesPerStep(ModelConfig cfg) {
        long h = cfg.hiddenSize();
        long layer = (cfg.qDim() + 2L * cfg.kvDim()) * h + h * cfg.qDim() + 2L * cfg.intermediateSize() * h
                + h * cfg.intermediateSize() + 2 * h;
        return 2 * (layer * cfg.numLayers() + h + (long) cfg.vocabSize() * h);
    }

    /** bf16 K and V of every context position of every request in every layer. */
    static long kvBytesPerStep(ModelConfig cfg, int b) {
        return 2L * 2 * b * CONTEXT * cfg.numLayers() * cfg.kvDim();
    }

    /**
     * {kernel launches, cuBLAS calls} of one decode step, counted from StepLauncher: one embedding;
     * per layer two norms, RoPE-and-append, decode attention (which merges its own split rows) and
     * four projections (q/k/v, o, gate_up, down: skinny launches, the gate_up one with the SiLU-mul
     * folded in, or cuBLAS calls and a SiLU-mul launch); then two gathers, a norm and the LM head (a
     * skinny launch or a cuBLAS call). With {@code mergeLaunched} (podserve.cuda.merge-in-decode=false)
     * a merge per layer is counted, which a graph always launches and an eager step only when its plan
     * splits: an upper bound there.
     */
    private static int[] callsPerStep(ModelConfig cfg, boolean skinny, boolean mergeLaunched) {
        int perLayer = 4 + (mergeLaunched ? 1 : 0) + (skinny ? 4 : 1);
        return new int[] {1 + cfg.numLayers() * perLayer + 3 + (skinny ? 1 : 0), skinny ? 0 : cfg.numLayers() * 4 + 1};
    }

    /** Median device-to-device copy bandwidth in TB/s over 10 event-timed 1 GiB copies, read + written bytes. */
    static double copyBandwidthTbps(CudaContext ctx) {
        ctx.makeCurrent();
        long[] src = new long[1];
        long[] dst = new long[1];
        check(cudart.cuMemAlloc(src, COPY_BYTES), "cuMemAlloc(src)");
        check(cudart.cuMemAlloc(dst, COPY_BYTES), "cuMemAlloc(dst)");
        CUstream_st stream = new CUstream_st();
        CUevent_st start = new CUevent_st();
        CUevent_st stop = new CUevent_st();
        try {
            check(cudart.cuMemsetD8(src[0], (byte) 1, COPY_BYTES), "cuMemsetD8");
            check(cudart.cuStreamCreate(stream, 0), "cuStreamCreate");
            check(cudart.cuEventCreate(start, 0), "cuEventCreate");
            check(cudart.cuEventCreate(stop, 0), "cuEventCreate");
            List<Double> tbps = new ArrayList<>();
            float[] ms = new float[1];
            for (int i = 0; i < 13; i++) {
                check(cudart.cuEventRecord(start, stream), "cuEventRecord");
                check(cudart.cuMemcpyDtoDAsync(dst[0], src[0], COPY_BYTES, stream), "cuMemcpyDtoDAsync");
                check(cudart.cuEventRecord(stop, stream), "cuEventRecord");
                check(cudart.cuEventSynchronize(stop), "cuEventSynchronize");
                check(cudart.cuEventElapsedTime(ms, start, stop), "cuEventElapsedTime");
                // The first three copies warm the copy path and clocks up; they are not counted.
                if (i >= 3) tbps.add(2.0 * COPY_BYTES / (ms[0] / 1e3) / 1e12);
            }
            return median(tbps);
        } finally {
            cudart.cuEventDestroy(start);
            cudart.cuEventDestroy(stop);
            cudart.cuStreamDestroy(stream);
            cudart.cuMemFree(src[0]);
            cudart.cuMemFree(dst[0]);
        }
    }

    /**
     * Host microseconds per launch of podserve's SiLU-mul kernel on one 8-element row: the same
     * parameter-block and cuLaunchKernel path as every podserve kernel in a step, with no GPU work
     * to speak of. Timed on the host over many back-to-back launches, before the final synchronise.
     */
    private static double trivialLaunchMicros(CudaContext ctx) {
        ctx.makeCurrent();
        long[] buf = new long[1];
        check(cudart.cuMemAlloc(buf, 1 << 20), "cuMemAlloc(scratch)");
        try (KernelModule module = KernelModule.load(); LayerKernels k = new LayerKernels(ctx, module)) {
            check(cudart.cuMemsetD8(buf[0], (byte) 0, 1 << 20), "cuMemsetD8");
            long in = buf[0];
            long outp = buf[0] + (1 << 19);
            for (int i = 0; i < 2000; i++) k.siluMul(in, 16, outp, 8, 1, 8);
            ctx.synchronize();
            int n = 20000;
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) k.siluMul(in, 16, outp, 8, 1, 8);
            double us = (System.nanoTime() - t0) / 1e3 / n;
            ctx.synchronize();
            return us;
        } finally {
            cudart.cuMemFree(buf[0]);
        }
    }

    /** Host microseconds per cublasGemmEx call of a 1 x 64 x 64 bf16 GEMM through podserve's wrapper. */
    private static double tinyGemmMicros(CudaContext ctx) {
        ctx.makeCurrent();
        long[] buf = new long[1];
        check(cudart.cuMemAlloc(buf, 1 << 20), "cuMemAlloc(scratch)");
        try (CublasGemm gemm = new CublasGemm(ctx)) {
            check(cudart.cuMemsetD8(buf[0], (byte) 0, 1 << 20), "cuMemsetD8");
            long x = buf[0];
            long wt = buf[0] + (1 << 16);
            long y = buf[0] + (1 << 18);
            for (int i = 0; i < 2000; i++) gemm.rowMajor(1, 64, 64, x, 64, wt, y, 64, false, false);
            ctx.synchronize();
            int n = 20000;
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) gemm.rowMajor(1, 64, 64, x, 64, wt, y, 64, false, false);
            double us = (System.nanoTime() - t0) / 1e3 / n;
            ctx.synchronize();
            return us;
        } finally {
            cudart.cuMemFree(buf[0]);
        }
    }

    private static void check(int result, String what) {
        if (result != 0) throw new IllegalStateException(what + " failed with CUresult " + result);
    }

    static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static double round(double v, int digits) {
        double scale = Math.pow(10, digits);
        return Math.round(v * scale) / scale;
    }
}
