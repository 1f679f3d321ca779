package dev.podserve.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelFolder;

/** What the CUDA backend declines, decided without a GPU and without loading any native code. */
class CudaBackendSupportTest {

    @Test
    void headDimsOtherThan64And128AreDeclined() throws Exception {
        ModelConfig tiny = ModelConfig.load(ModelFolder.embeddedDefault().configJson());
        assertTrue(CudaBackend.unsupportedReason(tiny).orElseThrow().contains("head_dim 32"));
        ModelConfig hd64 = new ModelConfig("LlamaForCausalLM", 10, 128, 256, 1, 2, 1, 64, 1e-5f, 10000.0, 64, true, 1, new int[] {2});
        assertEquals(java.util.Optional.empty(), CudaBackend.unsupportedReason(hd64));
    }

    @Test
    void slidingWindowsShorterThanTheContextAreDeclined() throws Exception {
        ModelConfig mistral = ModelConfig.load(Path.of("src/test/resources/fixtures/mistral-window/config.json"));
        ModelConfig hd64 = new ModelConfig("MistralForCausalLM", 10, 128, 256, 1, 2, 1, 64, 1e-5f, 10000.0, 64, true, 1,
                new int[] {2});
        assertTrue(CudaBackend.unsupportedReason(hd64.withSlidingWindow(16)).orElseThrow().contains("sliding"));
        assertTrue(CudaBackend.unsupportedReason(mistral).isPresent());
    }
}
