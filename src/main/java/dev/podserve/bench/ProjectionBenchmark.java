package dev.podserve.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.podserve.backend.cuda.CublasGemm;
import dev.podserve.backend.cuda.CudaContext;
import dev.podserve.backend.cuda.DeviceArena;
import dev.podserve.backend.cuda.KernelModule;
import dev.podserve.backend.cuda.LayerKernels;
import dev.podserve.backend.cuda.Projections;
import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelShapes;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * Times each projection of a Llama-3-8B decode step at a few token rows, cuBLAS against the skinny
 * GEMM kernel side by side ({@link Projections} with 0 and 16 rows, the kernel on every weight
 * whatever its size), as the weight bytes streamed per second against the device-to-device copy
 * bandwidth of the same run. Under programmatic dependent launch each skinny call starts streaming
 * while the one before it finishes, as the q/k/v and o projections do after their norm and
 * attention kernels in a step.
 *
 * <p>A projection's weight is read from one of several copies in turn, together larger than the
 * L2, as a model's 32 layers are: timing one copy again and again would measure the L2. Each
 * setting runs {@value #CALLS} calls back to back and is timed by the host around a final
 * synchronise (launches are asynchronous, and every call here takes longer on the GPU than its
 * launch on the host, so the GPU's time is what is measured); the settings alternate over
 * {@value #ROUNDS} rounds and the median round is reported. gate_up is timed with its SiLU-and-mul:
 * one skinny launch against the cuBLAS GEMM plus ps_silu_mul.
 *
 * <p>Usage: {@code ProjectionBenchmark <out.json>}; needs a GPU with about 3 GB free.
 */
public final class ProjectionBenchmark {

    private static final int[] TOKENS = {1, 2, 4, 8, 16};
    private static final int CALLS = 64;
    private static final int ROUNDS = 5;
    /** Copies of a weight together at least this large (the H100's and H200's L2 is 50 MB). */
    private static final long POOL_BYTES = 256L << 20;

    private ProjectionBenchmark() {
    }

    private record Shape(String name, int n, int k, boolean siluMul, boolean fp32Out) {
        long weightBytes() {
            return 2L * (siluMul ? 2 : 1) * n * k;
        }
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 1) {
            System.err.println("usage: ProjectionBenchmark <out.json>");
            System.exit(2);
        }
        ModelConfig cfg = ModelShapes.llama3EightB();
        int h = cfg.hiddenSize();
        List<Shape> shapes = List.of(new Shape("qkv", cfg.qDim() + 2 * cfg.kvDim(), h, false, false),
                new Shape("o_proj", h, cfg.qDim(), false, false),
                new Shape("gate_up+silu", cfg.intermediateSize(), h, true, false),
                new Shape("down", h, cfg.intermediateSize(), false, false),
                new Shape("lm_head", cfg.vocabSize(), h, false, true));
        long largest = shapes.stream().mapToLong(Shape::weightBytes).max().orElseThrow();
        List<Object> rows = new ArrayList<>();
        try (CudaContext ctx = CudaContext.open(0); KernelModule module = KernelModule.load();
             LayerKernels layers = new LayerKernels(ctx, module); CublasGemm gemm = new CublasGemm(ctx)) {
            double copyTbps = CudaDecodeBenchmark.copyBandwidthTbps(ctx);
            long poolBytes = Math.max(POOL_BYTES, largest) + (1 << 20);
            int maxT = TOKENS[TOKENS.length - 1];
            int widest = shapes.stream().mapToInt(s -> Math.max(s.n() * (s.siluMul() ? 2 : 1), s.k())).max().orElseThrow();
            try (DeviceArena arena = new DeviceArena(poolBytes + 16L * maxT * widest + (64L << 20))) {
                long pool = arena.carve("weights", poolBytes).address();                       // bf16 weight copies
                long x = arena.carve("x", 2L * maxT * widest).address();                        // bf16 [maxT][widest]
                long y = arena.carve("y", 4L * maxT * widest).address();                        // fp32 or bf16 [maxT][widest]
                long gateUp = arena.carve("gateUp", 2L * maxT * 2 * cfg.intermediateSize()).address();  // bf16 [maxT][2 inter]
                // Values as a model's: weights around 0 (scale 0.02), activations of order 1.
                layers.dummyFill(pool, poolBytes / 2, 11, 0f, 0.02f);
                layers.dummyFill(x, (long) maxT * widest, 12, 0f, 1f);
                ctx.synchronize();
                Projections cublas = new Projections(gemm, layers, 0);
                // Every projection on the kernel, past the serving cap, to show where the cap comes from.
                Projections skinny = new Projections(gemm, layers, Projections.MAX_TOKENS, Long.MAX_VALUE);
                System.out.printf("%s, device-to-device copy %.3f TB/s (read + written)%n%n", ctx.describe(), copyTbps);
                System.out.printf("%-13s %3s %12s %12s %9s %9s %8s%n", "projection", "T", "cuBLAS us", "skinny us", "cuBLAS", "skinny",
                        "speedup");
                for (Shape s : shapes) {
                    int copies = (int) Math.max(1, Math.min(poolBytes / s.weightBytes(), Math.max(2, POOL_BYTES / s.weightBytes() + 1)));
                    for (int T : TOKENS) {
                        double[][] us = new double[2][ROUNDS];
                        for (int round = 0; round < ROUNDS; round++) {
                            for (int m = 0; m < 2; m++) {
                                Projections p = m == 0 ? cublas : skinny;
                                call(p, s, T, pool, copies, x, y, gateUp, 4);  // warm
                                ctx.synchronize();
                                long t0 = System.nanoTime();
                                call(p, s, T, pool, copies, x, y, gateUp, CALLS);
                                ctx.synchronize();
                                us[m][round] = (System.nanoTime() - t0) / 1e3 / CALLS;
                            }
                        }
                        double cu = CudaDecodeBenchmark.median(java.util.Arrays.stream(us[0]).boxed().toList());
                        double sk = CudaDecodeBenchmark.median(java.util.Arrays.stream(us[1]).boxed().toList());
                        double cuTbps = s.weightBytes() / (cu * 1e-6) / 1e12;
                        double skTbps = s.weightBytes() / (sk * 1e-6) / 1e12;
                        System.out.printf("%-13s %3d %12.2f %12.2f %8.0f%% %8.0f%% %7.2fx%n", s.name(), T, cu, sk, 100 * cuTbps / copyTbps,
                                100 * skTbps / copyTbps, cu / sk);
                        Map<String, Object> row = new LinkedHashMap<>();
                        row.put("projection", s.name());
                        row.put("n", s.n());
                        row.put("k", s.k());
                        row.put("tokens", T);
                        row.put("weight_bytes", s.weightBytes());
                        row.put("weight_copies", copies);
                        row.put("cublas_us", round(cu));
                        row.put("skinny_us", round(sk));
                        row.put("cublas_tbps", round(cuTbps));
                        row.put("skinny_tbps", round(skTbps));
                        row.put("speedup", round(cu / sk));
                        row.put("copy_tbps", round(copyTbps));
                        row.put("cublas_rounds_us", java.util.Arrays.stream(us[0]).map(ProjectionBenchmark::round).boxed().toList());
                        row.put("skinny_rounds_us", java.util.Arrays.stream(us[1]).map(ProjectionBenchmark::round).boxed().toList());
                        row.put("method", CALLS + " calls back to back, host time around a synchronise, median of " + ROUNDS
                                + " alternating rounds; weights rotated over copies larger than L2 together");
                        row.put("card", ctx.name());
                        rows.add(row);
                    }
                }
            }
        }
        Path out = Path.of(args[0]);
        if (out.getParent() != null) Files.createDirectories(out.getParent());
        Files.writeString(out, JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build().writeValueAsString(rows) + "\n");
        System.out.println("\nwrote " + out.toAbsolutePath());
    }

    /** {@code calls} products of T rows, the weight taken from the copies in turn. */
    private static void call(Projections p, Shape s, int T, long pool, int copies, long x, long y, long gateUp, int calls) {
        for (int i = 0; i < calls; i++) {
            long w = pool + (i % copies) * s.weightBytes();
            if (s.siluMul()) {
                p.gateUpSilu(T, s.n(), s.k(), x, s.k(), w, gateUp, y, s.n());
            } else {
                p.rowMajor(T, s.n(), s.k(), x, s.k(), w, y, s.n(), s.fp32Out(), false);
            }
        }
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }
}
