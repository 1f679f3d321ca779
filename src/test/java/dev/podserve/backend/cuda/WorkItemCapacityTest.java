package dev.podserve.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * The step-input slot for prefill work items (CudaBackend.maxWorkItems) holds what every plan of
 * a step within the budget asks for: the fused kernel at 2 and 4 CTAs per SM, and the standalone
 * prefill. Random batches at the limits (a chunk filling the budget beside decodes, many short
 * prefills), GQA groups 1, 4 and 8.
 */
class WorkItemCapacityTest {

    private static final int SMS = 132;
    private static final int PAGE = 16;

    /** Prefill rows in a step of {@code chunks} prefills (lengths given) after {@code prefix} keys, then {@code decodes} at {@code keys}. */
    private static int items(int[] chunks, int prefix, int decodes, int keys, int heads, int kvHeads, int ctas) {
        int r = chunks.length + decodes;
        int[] qo = new int[r + 1], kv = new int[r + 1], last = new int[r];
        for (int i = 0; i < r; i++) {
            boolean prefill = i < chunks.length;
            int q = prefill ? chunks[i] : 1;
            int len = prefill ? prefix + q : keys;
            int pages = (len + PAGE - 1) / PAGE;
            qo[i + 1] = qo[i] + q;
            kv[i + 1] = kv[i] + pages;
            last[i] = len - (pages - 1) * PAGE;
        }
        int fused = PodPlan.plan(qo, kv, last, chunks.length, decodes, PAGE, heads, kvHeads, 128, SMS, PodPlan.AUTO, 0, ctas)
                .prefill().numWorkItems();
        int alone = AttentionPlan.prefill(qo, kv, last, 0, chunks.length, PAGE, heads, kvHeads, 128, SMS, 0,
                AttentionPlan.PREFILL_ROWS).numWorkItems();
        return Math.max(fused, alone);
    }

    @Test
    void everyPlanWithinTheBudgetFitsTheSlot() {
        Random rnd = new Random(20261127L);
        int[][] shapes = {{32, 32}, {32, 8}, {64, 8}};
        for (int trial = 0; trial < 400; trial++) {
            int[] shape = shapes[rnd.nextInt(shapes.length)];
            int group = shape[0] / shape[1];
            int budget = 64 + rnd.nextInt(4096);
            int maxSeqs = 1 + rnd.nextInt(Math.min(64, budget));
            int decodes = rnd.nextInt(maxSeqs);
            int prefills = 1 + rnd.nextInt(maxSeqs - decodes);
            int room = budget - decodes;
            if (room < prefills) continue;
            // Split the room among the prefills, unevenly: one long chunk, or many short ones.
            int[] chunks = new int[prefills];
            int left = room;
            for (int i = 0; i < prefills; i++) {
                int rest = prefills - i - 1;
                chunks[i] = i == prefills - 1 ? left : 1 + rnd.nextInt(left - rest);
                left -= chunks[i];
            }
            int cap = CudaBackend.maxWorkItems(budget, group, maxSeqs);
            for (int ctas : new int[] {2, 4}) {
                int need = items(chunks, rnd.nextInt(8000), decodes, 1 + rnd.nextInt(16384), shape[0], shape[1], ctas);
                assertThat(need).as("budget %d, %d prefills, %d decodes, group %d, %d CTAs/SM", budget, prefills, decodes, group, ctas)
                        .isLessThanOrEqualTo(cap);
            }
        }
    }

    /** The reviewed case: Llama-3-8B heads, budget 2048, 22 sequences, a 2,027-token chunk beside 21 decodes at 16K. */
    @Test
    void aLongChunkBesideDecodesAtFourCtasPerSm() {
        int need = items(new int[] {2027}, 0, 21, 16384, 32, 8, 4);
        assertThat(need).isEqualTo(127);
        assertThat(CudaBackend.maxWorkItems(2048, 4, 22)).isGreaterThanOrEqualTo(need);
    }
}
