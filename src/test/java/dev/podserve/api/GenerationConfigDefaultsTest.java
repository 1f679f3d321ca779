package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Proxy;

import org.junit.jupiter.api.Test;

import dev.podserve.api.dto.SamplingFields;
import dev.podserve.model.GenerationConfig;
import dev.podserve.sampling.SamplingParams;

/**
 * vLLM (ModelConfig.get_diff_sampling_param) takes repetition_penalty, temperature, top_k, top_p and
 * min_p from generation_config.json as the defaults of a request that leaves them out.
 */
class GenerationConfigDefaultsTest {

    /** A request that sets no sampling field at all. */
    private static SamplingFields emptyRequest() {
        return (SamplingFields) Proxy.newProxyInstance(SamplingFields.class.getClassLoader(), new Class<?>[] {SamplingFields.class},
                (proxy, method, args) -> method.getName().equals("toString") ? "empty request" : null);
    }

    @Test
    void minPFromGenerationConfigIsTheDefault() {
        GenerationConfig defaults = GenerationConfig.parse(
                "{\"temperature\": 0.7, \"top_p\": 0.8, \"top_k\": 20, \"min_p\": 0.05, \"repetition_penalty\": 1.05}");
        SamplingParams p = SamplingMapper.from(emptyRequest(), 16, null, defaults, null);
        assertThat(p.temperature()).isEqualTo(0.7);
        assertThat(p.topP()).isEqualTo(0.8);
        assertThat(p.topK()).isEqualTo(20);
        assertThat(p.repetitionPenalty()).isEqualTo(1.05);
        assertThat(p.minP()).as("min_p from generation_config.json").isEqualTo(0.05);
    }

    @Test
    void withoutGenerationConfigMinPIsOff() {
        assertThat(SamplingMapper.from(emptyRequest(), 16, null, GenerationConfig.empty(), null).minP()).isEqualTo(0.0);
    }
}
