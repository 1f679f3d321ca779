package dev.podserve.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import dev.podserve.attention.HybridBatch;
import dev.podserve.model.DummyWeights;
import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelWeights;

/**
 * {@code rowLogits} after a mixed step must give, for any row inside a prefill chunk, the logits a
 * step ending at that row samples from: bit for bit, since the CPU backend is batch invariant. The
 * reference runs each prefix alone on a fresh backend.
 */
class RowLogitsTest {

    @Test
    void chunkRowsEqualTheLogitsOfTheirPrefixRunAlone() {
        Random rnd = new Random(41);
        for (ModelConfig cfg : List.of(TestModels.awkward(), TestModels.gqa8())) {
            ModelWeights w = DummyWeights.generate(cfg, rnd.nextLong(), 2);
            int pageSize = 4;
            // Request 0 has 5 tokens cached and gets a chunk of 37; request 1 gets its first 23; request 2 decodes.
            int[] first = rnd.ints(42, 0, cfg.vocabSize()).toArray();
            int[] second = rnd.ints(23, 0, cfg.vocabSize()).toArray();
            int[] third = rnd.ints(9, 0, cfg.vocabSize()).toArray();
            try (CpuBackend backend = new CpuBackend(cfg, w, 64, pageSize, 2)) {
                PagedRequests paged = new PagedRequests(64, pageSize, rnd);
                backend.forward(paged.step().prefill(0, slice(first, 0, 5), false).prefill(2, slice(third, 0, 8), true).build());
                HybridBatch mixed = paged.step().prefill(0, slice(first, 5, 42), false).prefill(1, second, true)
                        .decode(2, third[8], true).build();
                backend.forward(mixed);
                // Every prefill row of both requests except the sampled last one, in batch order; groups of 32 split them.
                int[] rows = new int[36 + 22];
                for (int i = 0; i < 36; i++) rows[i] = i;
                for (int i = 0; i < 22; i++) rows[36 + i] = 37 + i;
                List<float[]> got = new ArrayList<>();
                List<Integer> firsts = new ArrayList<>();
                backend.rowLogits(rows, (from, logits) -> {
                    firsts.add(from);
                    for (float[] row : logits) got.add(row.clone());
                });
                assertThat(got).hasSize(rows.length);
                assertThat(firsts).containsExactly(0, 32);
                for (int i = 0; i < rows.length; i++) {
                    int[] prefix = rows[i] < 37 ? slice(first, 0, 5 + rows[i] + 1) : slice(second, 0, rows[i] - 37 + 1);
                    assertThat(got.get(i)).as("%s row %d", cfg, rows[i]).containsExactly(alone(cfg, w, prefix));
                }
            }
        }
    }

    @Test
    void rowsMustBeAscendingRowsOfTheLastStep() {
        ModelConfig cfg = TestModels.awkward();
        ModelWeights w = DummyWeights.generate(cfg, 7, 2);
        try (CpuBackend backend = new CpuBackend(cfg, w, 16, 4, 1)) {
            assertThatThrownBy(() -> backend.rowLogits(new int[] {0}, (f, l) -> { }))
                    .isInstanceOf(IllegalStateException.class);
            PagedRequests paged = new PagedRequests(16, 4, new Random(1));
            backend.forward(paged.step().prefill(0, new int[] {1, 2, 3}, true).build());
            assertThatThrownBy(() -> backend.rowLogits(new int[] {3}, (f, l) -> { }))
                    .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("row 3");
            assertThatThrownBy(() -> backend.rowLogits(new int[] {1, 1}, (f, l) -> { }))
                    .isInstanceOf(IllegalArgumentException.class);
        }
    }

    /** The sampled logits of a fresh backend's one-step run over {@code prompt}. */
    private static float[] alone(ModelConfig cfg, ModelWeights w, int[] prompt) {
        try (CpuBackend backend = new CpuBackend(cfg, w, 64, 4, 1)) {
            PagedRequests paged = new PagedRequests(64, 4, new Random(3));
            return backend.forward(paged.step().prefill(0, prompt, true).build())[0];
        }
    }

    private static int[] slice(int[] a, int from, int to) {
        return java.util.Arrays.copyOfRange(a, from, to);
    }
}
