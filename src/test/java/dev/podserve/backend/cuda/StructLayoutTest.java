package dev.podserve.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java mirror of the kernels' param structs against the C compiler: gcc compiles the real
 * headers with a program that prints offsetof() of every field ParamLayouts names and sizeof()
 * of every struct, and the launch constants (block size, shared memory) the planner copies, and
 * each must equal the Java value. Needs gcc and the cuda-kernels sources
 * (both present in CI and on the build machine); skipped where either is missing. No GPU, no
 * native library of JavaCPP is touched.
 */
class StructLayoutTest {

    private static final Path KERNELS = Path.of("cuda-kernels");

    @Test
    void everyOffsetAndSizeMatchesGcc(@TempDir Path dir) throws Exception {
        assumeTrue(Files.isRegularFile(KERNELS.resolve("include/params.h")), "cuda-kernels sources not here");
        assumeTrue(HostCompiler.available("gcc"), "gcc not on the PATH");
        StringBuilder c = new StringBuilder("#include <stdio.h>\n#include <stddef.h>\n#include \"")
                .append(KERNELS.toAbsolutePath().resolve("attention/pod_params.h")).append("\"\nint main(void) {\n");
        Map<String, Integer> expected = new LinkedHashMap<>();
        for (StructLayout s : ParamLayouts.ALL) {
            c.append("  printf(\"").append(s.name()).append(" sizeof %zu\\n\", sizeof(").append(s.name()).append("));\n");
            expected.put(s.name() + " sizeof", s.size());
            for (StructLayout.Field f : s.fields()) {
                c.append("  printf(\"").append(s.name()).append('.').append(f.name()).append(" %zu\\n\", offsetof(")
                        .append(s.name()).append(", ").append(f.name()).append("));\n");
                expected.put(s.name() + "." + f.name(), f.offset());
            }
        }
        // The launch constants the Java planner copies from attention_params.h.
        Map<String, Integer> constants = new java.util.HashMap<>(Map.of("PS_ATTN_THREADS", AttentionPlan.THREADS,
                "PS_ATTN_PREFILL_ROWS", AttentionPlan.PREFILL_ROWS, "PS_ATTN_DECODE_HEADS", AttentionPlan.DECODE_HEADS,
                "PS_ATTN_DECODE_SMEM_HD64", AttentionPlan.DECODE_SMEM_HD64,
                "PS_ATTN_DECODE_SMEM_HD128", AttentionPlan.DECODE_SMEM_HD128,
                "PS_ATTN_PREFILL_SMEM_HD64", AttentionPlan.PREFILL_SMEM_HD64,
                "PS_ATTN_PREFILL_SMEM_HD128", AttentionPlan.PREFILL_SMEM_HD128,
                "PS_DRAW_MAX_BANNED", ParamLayouts.DRAW_MAX_BANNED, "PS_SCORE_MAX_TOP", ParamLayouts.SCORE_MAX_TOP,
                "PS_SCORE_WORDS", ParamLayouts.SCORE_WORDS));
        constants.putAll(Map.of("PS_SKINNY_THREADS", Projections.THREADS, "PS_SKINNY_MAX_TOKENS", Projections.MAX_TOKENS,
                "PS_SKINNY_FP32_OUT", Projections.FP32_OUT, "PS_SKINNY_ACCUMULATE", Projections.ACCUMULATE,
                "PS_SKINNY_SILU_MUL", Projections.SILU_MUL, "PS_SKINNY_SMEM_BYTES(1, 0)", Projections.smemBytes(1, false),
                "PS_SKINNY_SMEM_BYTES(9, 0)", Projections.smemBytes(9, false), "PS_SKINNY_SMEM_BYTES(8, 1)", Projections.smemBytes(8, true),
                "PS_SKINNY_SMEM_BYTES(16, 1)", Projections.smemBytes(16, true), "PS_SKINNY_ROWS_PER_CTA(0)", Projections.rowsPerCta(false)));
        constants.put("PS_SKINNY_ROWS_PER_CTA(1)", Projections.rowsPerCta(true));
        for (Map.Entry<String, Integer> e : new java.util.TreeMap<>(constants).entrySet()) {
            c.append("  printf(\"").append(e.getKey()).append(" %d\\n\", (int) (").append(e.getKey()).append("));\n");
            expected.put(e.getKey(), e.getValue());
        }
        c.append("  return 0;\n}\n");
        Path src = dir.resolve("layout.c");
        Files.writeString(src, c);
        Path exe = dir.resolve("layout");
        HostCompiler.run(List.of("gcc", "-std=c11", "-Wall", "-Werror", "-o", exe.toString(), src.toString()), null);
        Map<String, Integer> actual = new LinkedHashMap<>();
        for (String line : HostCompiler.run(List.of(exe.toString()), null).split("\n")) {
            int sp = line.lastIndexOf(' ');
            actual.put(line.substring(0, sp), Integer.parseInt(line.substring(sp + 1).trim()));
        }
        assertEquals(expected, actual);
    }

    @Test
    void layoutsFollowNaturalAlignment() {
        StructLayout s = StructLayout.struct("S").i32("a").ptr("p").i32("b").build();
        assertEquals(0, s.fields().get(0).offset());
        assertEquals(8, s.fields().get(1).offset());
        assertEquals(16, s.fields().get(2).offset());
        assertEquals(24, s.size());
        assertEquals(176, ParamLayouts.ATTENTION.size());
        assertEquals(32, ParamLayouts.DUMMY_FILL.size());
        assertEquals(400, ParamLayouts.POD.size());
        assertEquals(184, ParamLayouts.ROPE_APPEND.size());
    }
}
