package dev.podserve.bench;

import dev.podserve.attention.AttentionMode;
import dev.podserve.attention.HybridBatch;
import dev.podserve.attention.SmPolicy;
import dev.podserve.attention.StepAttention;
import dev.podserve.attention.StepAttentionChooser;
import dev.podserve.backend.ComputeBackend;
import dev.podserve.backend.cuda.CudaBackend;
import dev.podserve.backend.cuda.CudaOptions;
import dev.podserve.backend.cuda.PodPlan;
import dev.podserve.model.DummyWeights;
import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelFolder;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code bench hybrid-steps}: what each attention mode costs inside a whole forward step on the
 * CUDA backend, shape by shape, with the step's attention launches timed per layer
 * ({@code podserve.attention.profile}).
 *
 * <p>Why beside {@code pod_bench}: that one times the attention kernels alone, with their plans
 * made in C++; serving runs them through the Java planner and launchers, after RoPE and the KV
 * append, between the projections, on pages the pool handed out in whatever order. When a serving
 * run's hybrid steps gain less from the fused kernel than the kernel sweep promises at the same
 * shapes, this tells whether the gap is in the attention launches themselves (their attention
 * milliseconds differ from {@code pod_bench}'s times the layer count) or around them.
 *
 * <p>Each shape is one prefill chunk after a prefix beside single-token decodes at one context
 * ({@link BudgetCalibration#hybridStep}). Its modes are timed in the same rounds, one step of each
 * per round in an order drawn anew each round, so clock drift and the card's warming hit every
 * mode alike. Pages are laid out in a random order by default, as a pool that has served a while
 * hands them out ({@code --pages ordered} keeps them consecutive).
 */
public final class HybridStepBenchmark {

    private HybridStepBenchmark() {
    }

    /** Parsed command line. */
    static final class Options {
        Path model;                       // null: the embedded default
        long seed = 20250302L;
        List<AttentionMode> modes = List.of(AttentionMode.SERIAL, AttentionMode.POD, AttentionMode.STREAMS);
        SmPolicy policy = SmPolicy.AUTO;
        int[] chunks = {512};
        int[] prefixes = {0, 4096, 8192, 12288};
        int[] decodes = {8, 16, 24};
        int context = 16896;
        boolean shuffledPages = true;
        int warmup = 3;
        int runs = 10;
        Path out;

        static Options parse(String[] args) {
            Options o = new Options();
            Flags.parse(args, usage(), (flag, v) -> {
                switch (flag) {
                    case "--model" -> o.model = Path.of(v);
                    case "--seed" -> o.seed = Long.parseLong(v);
                    case "--modes" -> o.modes = Arrays.stream(v.split(",")).map(AttentionMode::of).distinct().toList();
                    case "--sm-policy" -> o.policy = SmPolicy.of(v);
                    case "--chunks" -> o.chunks = ints(v);
                    case "--prefixes" -> o.prefixes = ints(v);
                    case "--decodes" -> o.decodes = ints(v);
                    case "--context" -> o.context = Integer.parseInt(v);
                    case "--pages" -> o.shuffledPages = switch (v) {
                        case "shuffled" -> true;
                        case "ordered" -> false;
                        default -> throw new IllegalArgumentException("--pages is shuffled or ordered");
                    };
                    case "--warmup" -> o.warmup = Integer.parseInt(v);
                    case "--runs" -> o.runs = Integer.parseInt(v);
                    case "--out" -> o.out = Path.of(v);
                    default -> throw new IllegalArgumentException("unknown flag " + flag + "\n" + usage());
                }
            });
            if (o.modes.isEmpty()) throw new IllegalArgumentException("--modes names no mode");
            if (o.context < 1 || o.runs < 1 || o.warmup < 0) {
                throw new IllegalArgumentException("--context and --runs must be >= 1, --warmup >= 0");
            }
            if (Arrays.stream(o.chunks).anyMatch(c -> c < 1) || Arrays.stream(o.prefixes).anyMatch(p -> p < 0)
                    || Arrays.stream(o.decodes).anyMatch(d -> d < 1)) {
                throw new IllegalArgumentException("--chunks and --decodes must be >= 1, --prefixes >= 0");
            }
            return o;
        }

        private static int[] ints(String v) {
            return Arrays.stream(v.split(",")).map(String::trim).mapToInt(Integer::parseInt).toArray();
        }

        static String usage() {
            return """
                    usage: bench hybrid-steps [flags]   (CUDA backend, dummy weights)
                      --model DIR            HuggingFace model folder whose shape is timed (default: the embedded model)
                      --modes M1,M2,...      attention modes, timed in the same rounds (default serial,pod,streams)
                      --sm-policy P          the pod mode's policy, as podserve.attention.sm-policy (default auto)
                      --chunks C1,...        prefill chunk lengths (default 512)
                      --prefixes P1,...      tokens of the prompt before the chunk (default 0,4096,8192,12288)
                      --decodes B1,...       single-token decodes beside it (default 8,16,24)
                      --context L            the decodes' context length (default 16896)
                      --pages shuffled|ordered  KV pages in a random order (default) or consecutive
                      --warmup N --runs N    rounds before timing, rounds timed (defaults 3, 10)
                      --out FILE             write every shape's rows as JSON""";
        }
    }

    /** One mode at one shape: the timed rounds' wall step, step GPU and attention GPU times. */
    record Row(int chunk, int prefix, int decodes, int context, String attention, double[] stepMs, double[] gpuMs,
               double[] attentionMs) {

        static double median(double[] v) {
            double[] s = v.clone();
            Arrays.sort(s);
            return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
        }
    }

    public static void main(String[] args) throws IOException {
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println(e.getMessage());
            System.exit(2);
            return;
        }
        List<Row> rows = run(o, System.out);
        if (o.out != null) {
            JsonMapper json = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
            Files.writeString(o.out, json.writeValueAsString(toJson(o, rows)) + "\n");
            System.out.println("wrote " + o.out);
        }
    }

    static List<Row> run(Options o, PrintStream log) {
        ModelFolder folder = o.model == null ? ModelFolder.embeddedDefault() : ModelFolder.of(o.model);
        ModelConfig cfg;
        try {
            cfg = ModelConfig.load(folder.configJson());
        } catch (IOException e) {
            throw new IllegalStateException("cannot read " + folder.configJson(), e);
        }
        CudaBackend.unsupportedReason(cfg).or(CudaBackend::unavailableReason).ifPresent(why -> {
            throw new IllegalStateException("bench hybrid-steps needs the CUDA backend: " + why);
        });
        int pageSize = 16;
        int maxChunk = Arrays.stream(o.chunks).max().orElseThrow();
        int maxPrefix = Arrays.stream(o.prefixes).max().orElseThrow();
        int maxDecodes = Arrays.stream(o.decodes).max().orElseThrow();
        int pages = pagesFor(maxPrefix + maxChunk, pageSize) + maxDecodes * pagesFor(o.context, pageSize) + 1;
        CudaOptions co = new CudaOptions(maxChunk + maxDecodes, maxDecodes + 1, pageSize, pages, 0, 0, true,
                o.modes.get(0), o.policy.code(), 0, PodPlan.AUTO_CTAS);
        List<Row> rows = new ArrayList<>();
        Random rng = new Random(o.seed);
        try (CudaBackend backend = CudaBackend.withDummyWeights(cfg, o.seed, co)) {
            backend.profileAttention(true);
            log.printf(Locale.ROOT, "hybrid steps on %s: %s, decodes at context %d, pages %s%n", backend.describe(), folder.name(),
                    o.context, o.shuffledPages ? "shuffled" : "ordered");
            for (int chunk : o.chunks) {
                for (int prefix : o.prefixes) {
                    for (int d : o.decodes) {
                        HybridBatch step = BudgetCalibration.hybridStep(chunk, prefix, d, o.context, pageSize);
                        if (o.shuffledPages) step = withPages(step, shuffledPool(pages, rng));
                        rows.addAll(timeShape(backend, cfg, o, step, chunk, prefix, d, rng, log));
                    }
                }
            }
        }
        return rows;
    }

    /** Every mode of one shape, timed round by round in a fresh order each round. */
    private static List<Row> timeShape(CudaBackend backend, ModelConfig cfg, Options o, HybridBatch step, int chunk, int prefix,
                                       int decodes, Random rng, PrintStream log) {
        int m = o.modes.size();
        HybridBatch[] batches = new HybridBatch[m];
        for (int i = 0; i < m; i++) {
            StepAttentionChooser chooser = new StepAttentionChooser(o.modes.get(i), o.policy, cfg.numHeads(), cfg.numKvHeads(),
                    cfg.headDim()).withAdvisor(backend.podPolicyAdvisor());
            batches[i] = step.withAttention(chooser.choose(step));
        }
        boolean[] noLogits = new boolean[step.sampleRequests().length];
        double[][] wall = new double[m][o.runs];
        double[][] gpu = new double[m][o.runs];
        double[][] attn = new double[m][o.runs];
        List<Integer> order = new ArrayList<>();
        for (int i = 0; i < m; i++) order.add(i);
        for (int round = -o.warmup; round < o.runs; round++) {
            Collections.shuffle(order, rng);
            for (int i : order) {
                long t = System.nanoTime();
                backend.forwardForSampling(batches[i], noLogits);
                double ms = (System.nanoTime() - t) / 1e6;
                ComputeBackend.StepProfile p = backend.lastStepProfile();
                if (round < 0) continue;
                wall[i][round] = ms;
                gpu[i][round] = p == null ? Double.NaN : p.gpuMillis();
                attn[i][round] = p == null ? Double.NaN : p.attentionMillis();
            }
        }
        List<Row> rows = new ArrayList<>();
        StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  C %5d P %6d B %3d:", chunk, prefix, decodes));
        for (int i = 0; i < m; i++) {
            Row r = new Row(chunk, prefix, decodes, o.context, label(batches[i].attention()), wall[i], gpu[i], attn[i]);
            rows.add(r);
            line.append(String.format(Locale.ROOT, "  %s step %.2f gpu %.2f attention %.2f ms", r.attention(), Row.median(r.stepMs()),
                    Row.median(r.gpuMs()), Row.median(r.attentionMs())));
        }
        log.println(line);
        return rows;
    }

    static String label(StepAttention a) {
        return a.modeLabel() + (a.mode() == AttentionMode.POD ? "/" + a.policyLabel() : "");
    }

    /** The step with its page ids mapped through {@code pool} (page p becomes pool[p]). */
    static HybridBatch withPages(HybridBatch b, int[] pool) {
        int[] pages = b.kvPageIndices().clone();
        for (int i = 0; i < pages.length; i++) pages[i] = pool[pages[i]];
        return new HybridBatch(b.tokenIds(), b.positions(), b.qoIndptr(), b.kvIndptr(), pages, b.kvLastPageLen(),
                b.sampleRequests(), b.numPrefillRequests(), b.numDecodeRequests(), b.pageSize(), b.attention());
    }

    /** The ids 0 .. pages-1 in a random order. */
    static int[] shuffledPool(int pages, Random rng) {
        List<Integer> ids = new ArrayList<>(pages);
        for (int i = 0; i < pages; i++) ids.add(i);
        Collections.shuffle(ids, rng);
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }

    private static Map<String, Object> toJson(Options o, List<Row> rows) {
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("model", o.model == null ? "embedded" : o.model.getFileName().toString());
        out.put("pages", o.shuffledPages ? "shuffled" : "ordered");
        out.put("runs", o.runs);
        List<Object> list = new ArrayList<>();
        for (Row r : rows) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("chunk", r.chunk());
            m.put("prefix", r.prefix());
            m.put("decodes", r.decodes());
            m.put("context", r.context());
            m.put("attention", r.attention());
            m.put("step_ms", Row.median(r.stepMs()));
            m.put("gpu_ms", Row.median(r.gpuMs()));
            m.put("attention_ms", Row.median(r.attentionMs()));
            m.put("steps_ms", r.stepMs());
            m.put("attention_runs_ms", r.attentionMs());
            list.add(m);
        }
        out.put("rows", list);
        return out;
    }

    private static int pagesFor(int tokens, int pageSize) {
        return (tokens + pageSize - 1) / pageSize;
    }
}
