package dev.podserve.bench;

import dev.podserve.attention.AttentionMode;
import dev.podserve.attention.HybridBatch;
import dev.podserve.attention.SmPolicy;
import dev.podserve.attention.StepAttention;
import dev.podserve.attention.StepAttentionChooser;
import dev.podserve.backend.ComputeBackend;
import dev.podserve.backend.cpu.CpuBackend;
import dev.podserve.backend.cuda.CudaBackend;
import dev.podserve.backend.cuda.CudaOptions;
import dev.podserve.model.CheckpointLoader;
import dev.podserve.model.DummyWeights;
import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelFolder;
import dev.podserve.model.ModelWeights;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code bench calibrate}: how large a token budget ({@code podserve.scheduler.max-num-batched-tokens})
 * the running card and model afford under a target time between tokens.
 *
 * <p>With chunked prefill every running request's next token waits for the whole step, so the
 * step time of a full hybrid step is the time between tokens that decodes see while a prompt is
 * being prefilled. For each candidate budget B the tool times the step the scheduler builds when
 * the budget is full: {@code decodes} single-token decodes at context {@code context}, plus one
 * prefill chunk of B - decodes tokens whose prefix is {@code prefix} tokens, on the backend and
 * attention mode the server would use. It prints each budget's step times and the largest budget
 * whose step time at the chosen statistic ({@code --by}, P90 by default) stays under the target, and
 * writes them as JSON with {@code --out}.
 *
 * <p>Why P90 and not the median: the target is usually a tail SLO (P99 time between tokens), and
 * the step a full budget makes varies by a few ms with its shape and the card's clocks. On the H100
 * in the paper's online case the median picked budgets that broke a 50 ms P99 ITL in serving
 * ({@code pod} at 896: 52 ms), while the P90 picked the largest budget that held
 * ({@code serve-h100-2026-11-27-capacity-d.json}).
 *
 * <p>KV pages are laid out in order and hold whatever the cache holds: step time depends on the
 * shape of the work, not on the values. Each budget is timed {@code --runs} times after
 * {@code --warmup} steps.
 */
public final class BudgetCalibration {

    private BudgetCalibration() {
    }

    /** Parsed command line. */
    static final class Options {
        Path model;                       // null: the embedded default
        boolean dummy;
        long seed = 20250302L;
        String backend = "auto";
        AttentionMode mode = AttentionMode.POD;
        SmPolicy policy = SmPolicy.AUTO;
        double targetMs = 50;
        Statistic by = Statistic.P90;
        int decodes = 32;
        int context = 2048;
        int prefix = 0;
        int[] budgets = {256, 512, 1024, 1536, 2048, 3072, 4096, 6144, 8192};
        int warmup = 3;
        int runs = 10;
        int threads = 0;
        Path out;

        static Options parse(String[] args) {
            Options o = new Options();
            Flags.parse(args, usage(), (flag, v) -> {
                switch (flag) {
                    case "--model" -> o.model = Path.of(v);
                    case "--load-format" -> o.dummy = switch (v) {
                        case "dummy" -> true;
                        case "auto" -> false;
                        default -> throw new IllegalArgumentException("--load-format is auto or dummy");
                    };
                    case "--seed" -> o.seed = Long.parseLong(v);
                    case "--backend" -> o.backend = v;
                    case "--attention-mode" -> o.mode = AttentionMode.of(v);
                    case "--sm-policy" -> o.policy = SmPolicy.of(v);
                    case "--target-tbt-ms" -> o.targetMs = Double.parseDouble(v);
                    case "--by" -> o.by = Statistic.of(v);
                    case "--decodes" -> o.decodes = Integer.parseInt(v);
                    case "--context" -> o.context = Integer.parseInt(v);
                    case "--prefix" -> o.prefix = Integer.parseInt(v);
                    case "--budgets" -> o.budgets = Arrays.stream(v.split(",")).map(String::trim).mapToInt(Integer::parseInt).sorted().toArray();
                    case "--warmup" -> o.warmup = Integer.parseInt(v);
                    case "--runs" -> o.runs = Integer.parseInt(v);
                    case "--threads" -> o.threads = Integer.parseInt(v);
                    case "--out" -> o.out = Path.of(v);
                    default -> throw new IllegalArgumentException("unknown flag " + flag + "\n" + usage());
                }
            });
            if (!List.of("auto", "cpu", "cuda").contains(o.backend)) throw new IllegalArgumentException("--backend is auto, cpu or cuda");
            if (o.targetMs <= 0) throw new IllegalArgumentException("--target-tbt-ms must be positive");
            if (o.decodes < 0 || o.context < 1 || o.prefix < 0 || o.runs < 1 || o.warmup < 0) {
                throw new IllegalArgumentException("--decodes, --prefix and --warmup must be >= 0, --context and --runs >= 1");
            }
            if (o.budgets.length == 0 || o.budgets[0] <= o.decodes) {
                throw new IllegalArgumentException("every budget must exceed --decodes (" + o.decodes + ")");
            }
            return o;
        }

        static String usage() {
            return """
                    usage: bench calibrate [flags]
                      --model DIR              HuggingFace model folder (default: the embedded default model)
                      --load-format auto|dummy weights from the folder, or drawn from --seed
                      --backend auto|cpu|cuda  as podserve.backend (default auto)
                      --attention-mode M       serial|streams|pod, as podserve.attention.mode (default pod)
                      --sm-policy P            auto|proportional|fifty-fifty|static (default auto)
                      --target-tbt-ms T        time between tokens to stay under (default 50)
                      --by median|p90|p99      step-time statistic held under the target (default p90)
                      --decodes N              running decodes beside the prefill chunk (default 32)
                      --context L              their context length (default 2048)
                      --prefix P               tokens of the prompt already prefilled (default 0)
                      --budgets B1,B2,...      candidate budgets (default 256 ... 8192)
                      --warmup N --runs N      steps before timing, steps timed (defaults 3, 10)
                      --out FILE               write the result as JSON""";
        }
    }

    /** Which statistic of a budget's timed steps must stay under the target. */
    enum Statistic {
        MEDIAN("median"), P90("p90"), P99("p99");

        final String label;

        Statistic(String label) {
            this.label = label;
        }

        static Statistic of(String v) {
            for (Statistic s : values()) {
                if (s.label.equals(v)) return s;
            }
            throw new IllegalArgumentException("--by is median, p90 or p99, got " + v);
        }
    }

    /**
     * One candidate budget's timing. Every statistic comes from {@code stepsMs}, the step times in
     * the order they ran (so a slow start shows).
     */
    record Row(int budget, int prefillTokens, int decodes, double[] stepsMs, String attention) {
        Row {
            if (stepsMs.length == 0) throw new IllegalArgumentException("a row needs at least one timed step");
        }

        private double[] sorted() {
            double[] ms = stepsMs.clone();
            Arrays.sort(ms);
            return ms;
        }

        double medianMs() {
            double[] ms = sorted();
            return ms[ms.length / 2];
        }

        double minMs() {
            return sorted()[0];
        }

        double maxMs() {
            return sorted()[stepsMs.length - 1];
        }

        // Every decode waits for the whole step, so the tail (P90, P99) is the time between tokens
        // that users see at worst, not only the median the budget is chosen by.
        double p90Ms() {
            return rank(sorted(), 0.90);
        }

        double p99Ms() {
            return rank(sorted(), 0.99);
        }

        double ms(Statistic by) {
            return switch (by) {
                case MEDIAN -> medianMs();
                case P90 -> p90Ms();
                case P99 -> p99Ms();
            };
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
        Map<String, Object> result = run(o, System.out);
        if (o.out != null) {
            JsonMapper json = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();
            Files.writeString(o.out, json.writeValueAsString(result) + "\n");
            System.out.println("wrote " + o.out);
        }
    }

    static Map<String, Object> run(Options o, java.io.PrintStream log) throws IOException {
        ModelFolder folder = o.model == null ? ModelFolder.embeddedDefault() : ModelFolder.of(o.model);
        ModelConfig cfg = ModelConfig.load(folder.configJson());
        int pageSize = 16;
        int maxBudget = o.budgets[o.budgets.length - 1];
        int pages = pagesFor(o.prefix + maxBudget, pageSize) + o.decodes * pagesFor(o.context, pageSize) + 1;
        int threads = o.threads > 0 ? o.threads : Runtime.getRuntime().availableProcessors();
        boolean cuda = !o.backend.equals("cpu") && CudaBackend.unsupportedReason(cfg).or(CudaBackend::unavailableReason).isEmpty();
        if (o.backend.equals("cuda") && !cuda) throw new IllegalStateException("--backend cuda, but no usable CUDA device or kernels");
        ComputeBackend backend;
        if (cuda) {
            CudaOptions co = new CudaOptions(maxBudget, Math.max(1, o.decodes + 1), pageSize, pages, 0, 0, true,
                    o.mode, o.policy.code(), 0, dev.podserve.backend.cuda.PodPlan.AUTO_CTAS);
            // Dummy weights (and the embedded model, which ships none) are drawn on the device.
            backend = o.dummy || folder.embedded() ? CudaBackend.withDummyWeights(cfg, o.seed, co)
                    : new CudaBackend(cfg, weights(folder, cfg, o, threads), co);
        } else {
            backend = new CpuBackend(cfg, weights(folder, cfg, o, threads), pages, pageSize, threads);
        }
        StepAttentionChooser chooser = new StepAttentionChooser(o.mode, o.policy, cfg.numHeads(), cfg.numKvHeads(), cfg.headDim());
        // auto's tickets as the server's scheduler gets them from the backend.
        if (backend instanceof CudaBackend c) chooser = chooser.withAdvisor(c.podPolicyAdvisor());
        log.printf(Locale.ROOT, "calibrating on %s: %s, %d decodes at context %d beside a chunk after %d tokens, target %.1f ms%n",
                backend.describe(), folder.name(), o.decodes, o.context, o.prefix, o.targetMs);
        List<Row> rows = new ArrayList<>();
        try (ComputeBackend closing = backend) {
            for (int budget : o.budgets) {
                HybridBatch batch = hybridStep(budget - o.decodes, o.prefix, o.decodes, o.context, pageSize);
                batch = batch.withAttention(chooser.choose(batch));
                boolean[] noLogits = new boolean[batch.sampleRequests().length];
                for (int i = 0; i < o.warmup; i++) backend.forwardForSampling(batch, noLogits);
                double[] stepsMs = new double[o.runs];
                for (int i = 0; i < o.runs; i++) {
                    long t = System.nanoTime();
                    backend.forwardForSampling(batch, noLogits);
                    stepsMs[i] = (System.nanoTime() - t) / 1e6;
                }
                StepAttention a = batch.attention();
                Row row = new Row(budget, budget - o.decodes, o.decodes, stepsMs,
                        a.modeLabel() + (a.mode() == AttentionMode.POD ? "/" + a.policyLabel() : ""));
                rows.add(row);
                log.printf(Locale.ROOT, "  budget %5d: step %8.2f ms (min %.2f, P90 %.2f, P99 %.2f, max %.2f), attention %s%n", budget,
                        row.medianMs(), row.minMs(), row.p90Ms(), row.p99Ms(), row.maxMs(), row.attention());
            }
        }
        int best = largestUnder(rows, o.targetMs, o.by);
        if (best > 0) {
            log.printf(Locale.ROOT, "largest max-num-batched-tokens with the %s step under %.1f ms: %d (--podserve.scheduler.max-num-batched-tokens=%d)%n",
                    o.by.label, o.targetMs, best, best);
        } else {
            log.printf(Locale.ROOT, "no candidate budget keeps the %s step under %.1f ms%n", o.by.label, o.targetMs);
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("backend", backend.describe());
        out.put("model", folder.name());
        out.put("attention_mode", o.mode.name().toLowerCase(Locale.ROOT));
        out.put("sm_policy", o.policy.label());
        out.put("decodes", o.decodes);
        out.put("context", o.context);
        out.put("prefix", o.prefix);
        out.put("target_tbt_ms", o.targetMs);
        out.put("chosen_by", o.by.label);
        out.put("max_num_batched_tokens", best > 0 ? best : null);
        List<Object> list = new ArrayList<>();
        for (Row r : rows) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("budget", r.budget());
            m.put("prefill_tokens", r.prefillTokens());
            m.put("decodes", r.decodes());
            m.put("step_ms_median", r.medianMs());
            m.put("step_ms_min", r.minMs());
            m.put("step_ms_max", r.maxMs());
            m.put("step_ms_p90", r.p90Ms());
            m.put("step_ms_p99", r.p99Ms());
            m.put("steps_ms", r.stepsMs());
            m.put("attention", r.attention());
            list.add(m);
        }
        out.put("rows", list);
        return out;
    }

    /** The nearest-rank percentile of ascending {@code sorted}: the smallest value with at least q of them at or below. */
    static double rank(double[] sorted, double q) {
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
    }

    /** The largest budget whose step time at {@code by} is within the target, or 0 when none is. */
    static int largestUnder(List<Row> rows, double targetMs, Statistic by) {
        int best = 0;
        for (Row r : rows) {
            if (r.ms(by) <= targetMs) best = Math.max(best, r.budget());
        }
        return best;
    }

    private static ModelWeights weights(ModelFolder folder, ModelConfig cfg, Options o, int threads) {
        if (o.dummy || folder.embedded()) return DummyWeights.generate(cfg, o.seed);
        return CheckpointLoader.load(folder.dir(), cfg, threads).weights();
    }

    private static int pagesFor(int tokens, int pageSize) {
        return (tokens + pageSize - 1) / pageSize;
    }

    /**
     * Request 0: a prefill chunk of {@code chunk} tokens at positions prefix .. prefix+chunk-1;
     * requests 1..decodes: one token each at position context-1. Pages are consecutive.
     */
    public static HybridBatch hybridStep(int chunk, int prefix, int decodes, int context, int pageSize) {
        int r = 1 + decodes;
        int[] qo = new int[r + 1];
        int[] kv = new int[r + 1];
        int[] last = new int[r];
        int[] positions = new int[chunk + decodes];
        for (int i = 0; i < r; i++) {
            int q = i == 0 ? chunk : 1;
            int kvLen = i == 0 ? prefix + chunk : context;
            qo[i + 1] = qo[i] + q;
            int p = pagesFor(kvLen, pageSize);
            kv[i + 1] = kv[i] + p;
            last[i] = kvLen - (p - 1) * pageSize;
            for (int t = 0; t < q; t++) positions[qo[i] + t] = kvLen - q + t;
        }
        int[] pageIds = new int[kv[r]];
        for (int i = 0; i < pageIds.length; i++) pageIds[i] = i;
        int[] sample = new int[r];
        for (int i = 0; i < r; i++) sample[i] = i;
        int[] tokens = new int[qo[r]];
        for (int i = 0; i < tokens.length; i++) tokens[i] = (i * 7919) % 256;
        return new HybridBatch(tokens, positions, qo, kv, pageIds, last, sample, 1, decodes, pageSize);
    }
}
