package dev.podserve.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.podserve.attention.AttentionMode;
import dev.podserve.attention.HybridBatch;
import dev.podserve.backend.ComputeBackend;
import dev.podserve.bench.BudgetCalibration;
import dev.podserve.model.ModelConfig;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * podserve.attention.profile: eager steps report their attention's GPU time, a positive part of
 * the step's, in every attention mode; graph-replayed decode steps and unprofiled backends report
 * nothing; and profiling does not change a single logit.
 */
@Tag("gpu")
class AttentionProfileGpuTest {

    private static final ModelConfig CFG = new ModelConfig("LlamaForCausalLM", 1000, 512, 1024, 2, 8, 2, 128, 1e-5f, 500000.0,
            8192, false, 1, new int[] {2});

    @Test
    void eagerStepsReportTheirAttentionTimeAndLogitsDoNotChange() {
        Gpu.require();
        int pageSize = 16;
        HybridBatch hybrid = BudgetCalibration.hybridStep(700, 3000, 9, 2500, pageSize);
        HybridBatch decodes = BudgetCalibration.hybridStep(2, 10, 4, 1500, pageSize);
        decodes = new HybridBatch(new int[] {1, 2, 3, 4}, java.util.Arrays.copyOfRange(decodes.positions(), 2, 6),
                shift(decodes.qoIndptr(), 1), shift(decodes.kvIndptr(), 1),
                java.util.Arrays.copyOfRange(decodes.kvPageIndices(), decodes.kvIndptr()[1], decodes.kvPageIndices().length),
                java.util.Arrays.copyOfRange(decodes.kvLastPageLen(), 1, 5), new int[] {0, 1, 2, 3}, 0, 4, pageSize);
        int pages = 1 + (3700 + pageSize - 1) / pageSize + 9 * ((2500 + pageSize - 1) / pageSize);
        for (AttentionMode mode : AttentionMode.values()) {
            CudaOptions o = new CudaOptions(1024, 16, pageSize, pages, 0, 0, true).withAttentionMode(mode);
            try (CudaBackend plain = CudaBackend.withDummyWeights(CFG, 5, o); CudaBackend profiled = CudaBackend.withDummyWeights(CFG, 5, o)) {
                profiled.profileAttention(true);
                float[][] a = plain.forward(hybrid);
                assertNull(plain.lastStepProfile(), "profiling is off by default");
                float[][] b = profiled.forward(hybrid);
                ComputeBackend.StepProfile p = profiled.lastStepProfile();
                assertNotNull(p, mode + ": an eager step is profiled");
                assertTrue(p.attentionMillis() > 0 && p.attentionMillis() < p.gpuMillis(),
                        mode + ": attention " + p.attentionMillis() + " ms of a " + p.gpuMillis() + " ms step");
                for (int r = 0; r < a.length; r++) {
                    for (int v = 0; v < a[r].length; v++) assertEquals(a[r][v], b[r][v], mode + ": logit " + v + " of row " + r);
                }
                profiled.forward(decodes);
                assertNull(profiled.lastStepProfile(), mode + ": a graph-replayed decode step is not profiled");
            }
        }
    }

    private static int[] shift(int[] indptr, int from) {
        int[] out = new int[indptr.length - from];
        for (int i = 0; i < out.length; i++) out[i] = indptr[i + from] - indptr[from];
        return out;
    }
}
