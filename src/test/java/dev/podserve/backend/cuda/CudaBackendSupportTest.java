package dev.podserve.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelFolder;

/** What the CUDA backend accepts and declines, decided without a GPU and without loading any native code. */
class CudaBackendSupportTest {

    @Test
    void headDimsWithoutAKernelAreDeclined() throws Exception {
        ModelConfig tiny = ModelConfig.load(ModelFolder.embeddedDefault().configJson());
        assertEquals(32, tiny.headDim());
        assertEquals(java.util.Optional.empty(), CudaBackend.unsupportedReason(tiny));
        for (int hd : new int[] {16, 32, 64, 128}) {
            ModelConfig ok = new ModelConfig("LlamaForCausalLM", 10, 4 * hd, 256, 1, 4, 1, hd, 1e-5f, 10000.0, 64, true, 1,
                    new int[] {2});
            assertEquals(java.util.Optional.empty(), CudaBackend.unsupportedReason(ok), "head dim " + hd);
        }
        ModelConfig hd96 = new ModelConfig("LlamaForCausalLM", 10, 384, 256, 1, 4, 1, 96, 1e-5f, 10000.0, 64, true, 1, new int[] {2});
        assertTrue(CudaBackend.unsupportedReason(hd96).orElseThrow().contains("head_dim 96"));
    }

    @Test
    void slidingWindowsAreAccepted() throws Exception {
        ModelConfig mistral = ModelConfig.load(Path.of("src/test/resources/fixtures/mistral-window/config.json"));
        assertEquals(16, mistral.windowOf(0));
        assertEquals(java.util.Optional.empty(), CudaBackend.unsupportedReason(mistral));
        ModelConfig hd64 = new ModelConfig("MistralForCausalLM", 10, 128, 256, 1, 2, 1, 64, 1e-5f, 10000.0, 64, true, 1,
                new int[] {2});
        assertEquals(java.util.Optional.empty(), CudaBackend.unsupportedReason(hd64.withSlidingWindow(16)));
    }
}
