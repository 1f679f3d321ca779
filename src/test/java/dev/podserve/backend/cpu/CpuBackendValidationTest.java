package dev.podserve.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import org.junit.jupiter.api.Test;

import jdk.incubator.vector.FloatVector;

import dev.podserve.attention.HybridBatch;
import dev.podserve.model.DummyWeights;
import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelShapes;
import dev.podserve.model.ModelWeights;

class CpuBackendValidationTest {

    private static final ModelConfig CFG = TestModels.gqa1();
    private static final ModelWeights W = DummyWeights.generate(CFG, 1, 1);

    private static HybridBatch oneRequest(int token, int page, int pageSize) {
        return new HybridBatch(new int[] {token}, new int[] {0}, new int[] {0, 1}, new int[] {0, 1}, new int[] {page},
                new int[] {1}, new int[] {0}, 1, 0, pageSize);
    }

    @Test
    void describesItselfAndReportsItsCache() {
        try (CpuBackend b = new CpuBackend(CFG, W, 4, 16, 2)) {
            assertThat(b.describe()).isEqualTo("cpu (vector " + FloatVector.SPECIES_PREFERRED.vectorBitSize()
                    + "-bit, 2 threads)");
            assertThat(b.numKvBlocks()).isEqualTo(4);
            assertThat(b.pageSize()).isEqualTo(16);
            assertThat(b.config()).isSameAs(CFG);
            assertThat(b.forward(oneRequest(3, 3, 16))).hasDimensions(1, CFG.vocabSize());
        }
    }

    @Test
    void rejectsBatchesItCannotServe() {
        try (CpuBackend b = new CpuBackend(CFG, W, 4, 16, 1)) {
            assertThatThrownBy(() -> b.forward(oneRequest(3, 4, 16))).hasMessageContaining("KV page 4");
            assertThatThrownBy(() -> b.forward(oneRequest(CFG.vocabSize(), 0, 16))).hasMessageContaining("token id");
            assertThatThrownBy(() -> b.forward(oneRequest(3, 0, 8))).hasMessageContaining("page size");
        }
        assertThatThrownBy(() -> new CpuBackend(ModelShapes.tiny(), W, 4, 16, 1)).hasMessageContaining("different model shape");
    }

    /**
     * Rows out of order or with a gap would write K/V at another request's slots (page size 1:
     * position 5 of a 2-page request is the 6th entry of the page table, request 1's page).
     */
    @Test
    void aRequestsRowsMustBeItsLastPositionsInOrder() {
        int[] pages = {0, 1, 2, 3, 4, 5, 6, 7};
        for (int[] positions : new int[][] {{5, 1}, {1, 1}, {0, 0}, {1, 0}}) {
            assertThatThrownBy(() -> new HybridBatch(new int[] {1, 2, 3}, new int[] {positions[0], positions[1], 5},
                    new int[] {0, 2, 3}, new int[] {0, 2, 8}, pages, new int[] {1, 1}, new int[] {0, 1}, 1, 1, 1))
                    .hasMessageContaining("request 0 rows must be its context's last 2 positions in order");
        }
        HybridBatch ok = new HybridBatch(new int[] {1, 2, 3}, new int[] {0, 1, 5}, new int[] {0, 2, 3}, new int[] {0, 2, 8}, pages,
                new int[] {1, 1}, new int[] {0, 1}, 1, 1, 1);
        assertThat(ok.kvLength(1)).isEqualTo(6);
    }

    @Test
    void positionsRunToTheScaledContextAndNoFurther() {
        ModelConfig dynamic = TestModels.ropeTypes(16).get(1);
        ModelWeights w = DummyWeights.generate(dynamic, 2, 1);
        try (CpuBackend b = new CpuBackend(dynamic, w, 1, 1, 1)) {
            assertThat(b.forward(at(3, dynamic.maxContextLength() - 1))).hasDimensions(1, dynamic.vocabSize());
            assertThatThrownBy(() -> b.forward(at(3, dynamic.maxContextLength()))).hasMessageContaining("position 128 is outside 0..127");
        }
    }

    /** One token at {@code position}, every page of its table the single page 0 (only the new slot is read back). */
    private static HybridBatch at(int token, int position) {
        int[] pages = new int[position + 1];
        return new HybridBatch(new int[] {token}, new int[] {position}, new int[] {0, 1}, new int[] {0, position + 1}, pages,
                new int[] {1}, new int[] {0}, 0, 1, 1);
    }

    @Test
    void aBatchWithNoSampledRowStillFillsTheCache() {
        try (CpuBackend b = new CpuBackend(CFG, W, 4, 4, 1)) {
            HybridBatch fill = new HybridBatch(new int[] {5, 6, 7}, new int[] {0, 1, 2}, new int[] {0, 3}, new int[] {0, 1},
                    new int[] {2}, new int[] {3}, new int[0], 1, 0, 4);
            assertThat(b.forward(fill)).isEmpty();
            HybridBatch next = new HybridBatch(new int[] {8}, new int[] {3}, new int[] {0, 1}, new int[] {0, 1},
                    new int[] {2}, new int[] {4}, new int[] {0}, 0, 1, 4);
            float[] got = b.forward(next)[0];
            float[] want = new ReferenceForward(CFG, W).newSequence().appendAll(5, 6, 7, 8);
            for (int v = 0; v < want.length; v++) assertThat(got[v]).isCloseTo(want[v], offset(1e-4f));
        }
    }
}
