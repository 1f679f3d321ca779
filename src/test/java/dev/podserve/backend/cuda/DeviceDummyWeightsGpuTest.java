package dev.podserve.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Random;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import dev.podserve.attention.HybridBatch;
import dev.podserve.model.DummyWeights;
import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelShapes;
import dev.podserve.model.ModelWeights;

/**
 * Dummy weights drawn on the device are DummyWeights' host values rounded to bf16, bit for bit:
 * tensor by tensor through the fill kernel, and as a whole model (same logits as the backend that
 * uploads the host arrays).
 */
@Tag("gpu")
class DeviceDummyWeightsGpuTest {

    /** Qwen2 layout: q/k/v biases, tied embeddings, GQA 4, odd vocabulary. */
    private static final ModelConfig QWEN = new ModelConfig("Qwen2ForCausalLM", 777, 384, 1000, 2, 8, 2, 128, 1e-6f, 1000000.0,
            2048, true, 1, new int[] {2}).withQkvBias(true);

    @Test
    void everyTensorEqualsTheHostDrawRoundedToBf16() {
        Gpu.require();
        for (ModelConfig cfg : new ModelConfig[] {ModelShapes.tiny(), QWEN}) {
            long seed = 1234567L;
            ModelWeights host = DummyWeights.generate(cfg, seed, 2);
            try (DeviceArena arena = new DeviceArena(64L << 20); DeviceCopies copies = new DeviceCopies(Gpu.ctx());
                 LayerKernels k = new LayerKernels(Gpu.ctx(), Gpu.module())) {
                for (DummyWeights.Draw d : DummyWeights.draws(cfg)) {
                    float[] array = switch (d.tensor()) {
                        case "embed_tokens" -> host.embed();
                        case "lm_head" -> host.lmHead();
                        case "norm" -> host.finalNorm();
                        default -> d.layerTensor().array(host.layer(d.layer()));
                    };
                    // One element beyond the tensor stays poisoned: the kernel must stop at count.
                    long out = arena.carve(d.tensor() + d.layer(), 2L * (d.length() + 1)).address();
                    copies.fill(out, (byte) 0xFF, 2L * (d.length() + 1));
                    k.dummyFill(out, d.length(), DummyWeights.tensorKey(seed, d.tensorId()), d.center(), d.halfWidth());
                    short[] got = copies.readBf16Bits(out, d.length() + 1);
                    short[] want = new short[d.length() + 1];
                    for (int i = 0; i < d.length(); i++) want[i] = Bf16.fromFloat(array[d.offset() + i]);
                    want[d.length()] = (short) 0xFFFF;
                    assertArrayEquals(want, got, cfg.architecture() + " " + d.tensor() + " of layer " + d.layer());
                }
            }
        }
    }

    @Test
    void aBackendWithDeviceDummyWeightsComputesTheSameLogitsAsOneGivenTheHostWeights() {
        Gpu.require();
        ModelConfig cfg = QWEN;
        long seed = 99;
        int pageSize = 16;
        // Two prefill chunks (37 and 5 tokens) in one eager step, pages interleaved.
        Random rnd = new Random(5);
        int[] ids = new int[42];
        int[] pos = new int[42];
        for (int t = 0; t < 42; t++) {
            ids[t] = rnd.nextInt(cfg.vocabSize());
            pos[t] = t < 37 ? t : t - 37;
        }
        HybridBatch b = new HybridBatch(ids, pos, new int[] {0, 37, 42}, new int[] {0, 3, 4}, new int[] {4, 1, 6, 2},
                new int[] {5, 5}, new int[] {0, 1}, 2, 0, pageSize);
        CudaOptions o = new CudaOptions(64, 4, pageSize, 8, 0, 0);
        float[][] fromHost;
        try (CudaBackend uploaded = new CudaBackend(cfg, DummyWeights.generate(cfg, seed, 2), o)) {
            fromHost = uploaded.forward(b);
        }
        try (CudaBackend generated = CudaBackend.withDummyWeights(cfg, seed, o)) {
            float[][] fromDevice = generated.forward(b);
            assertEquals(2, fromDevice.length);
            for (int r = 0; r < 2; r++) assertArrayEquals(fromHost[r], fromDevice[r], "logits of request " + r);
        }
    }
}
