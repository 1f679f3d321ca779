package dev.podserve.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.util.unit.DataSize;

import dev.podserve.engine.EngineListener;
import dev.podserve.engine.ServingModel;

/** Start-up from settings: overrides take effect, and settings that cannot work stop start-up naming the key. */
class ModelLoaderTest {

    @TempDir
    Path dir;

    private static PodserveProperties props(String path, String template, int maxModelLen) {
        return new PodserveProperties(new PodserveProperties.Model(path, "auto", 1, "served-as", template, "auto", "auto"),
                new PodserveProperties.Scheduler(64, 4, 0, maxModelLen, "", "headroom", true, "fcfs"), new PodserveProperties.KvCache(16, DataSize.ofMegabytes(4), 0, true),
                new PodserveProperties.Cpu(1), new PodserveProperties.Api(Duration.ofSeconds(15), java.util.List.of()), null, null, null, "cpu");
    }

    @Test
    void chatTemplateFileOverridesTheCheckpointsAndServedNameIsUsed() throws IOException {
        Path template = dir.resolve("t.jinja");
        Files.writeString(template, "{% for m in messages %}[{{ m.role | upper }}] {{ m.content }}\n{% endfor %}");
        ServingModel m = ModelLoader.load(props(null, template.toString(), 0), EngineListener.NONE);
        try {
            assertThat(m.servedName()).isEqualTo("served-as");
            assertThat(m.chatTemplate().render(List.of(Map.of("role", "user", "content", "hi")), true, Map.of()))
                    .isEqualTo("[USER] hi\n");
        } finally {
            m.engine().close();
        }
    }

    /**
     * The tokenizer's EOS token ends a generation too, as in vLLM: a ChatML fine-tune of a Mistral
     * base names <|im_end|> in tokenizer_config.json while both config files keep the base's </s>.
     */
    @Test
    void theTokenizersEosTokenEndsAGenerationBesideTheConfigsOnes() throws IOException {
        for (String f : List.of("config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json", "model.safetensors")) {
            try (java.io.InputStream in = getClass().getClassLoader().getResourceAsStream("fixtures/mistral-window/" + f)) {
                Files.copy(in, dir.resolve(f));
            }
        }
        Path config = dir.resolve("tokenizer_config.json");
        Files.writeString(config, Files.readString(config).replace("\"eos_token\": \"</s>\"", "\"eos_token\": \"<|im_end|>\""));
        int imEnd = dev.podserve.tokenizer.HfTokenizer.load(dir).eosTokenId().orElseThrow();
        ServingModel m = ModelLoader.load(props(dir.toString(), null, 0), EngineListener.NONE);
        try {
            assertThat(m.engine().eosTokenIds()).contains(imEnd).contains(dev.podserve.model.ModelConfig.parse(
                    Files.readString(dir.resolve("config.json"))).eosTokenIds());
        } finally {
            m.engine().close();
        }
    }

    /** A CPU KV cache over one Java array per layer stops start-up naming the setting, not with a bare array error. */
    @Test
    void aKvCacheTheCpuCannotHoldNamesTheSetting() {
        PodserveProperties huge = new PodserveProperties(new PodserveProperties.Model(null, "auto", 1, " padded name ", null, "auto", "auto"),
                new PodserveProperties.Scheduler(64, 4, 0, 0, "", "headroom", true, "fcfs"), new PodserveProperties.KvCache(16, DataSize.ofMegabytes(4), 50_000_000, true),
                new PodserveProperties.Cpu(1), new PodserveProperties.Api(Duration.ofSeconds(15), java.util.List.of()), null, null, null, "cpu");
        assertThatThrownBy(() -> ModelLoader.load(huge, EngineListener.NONE))
                .hasMessageContaining("podserve.kv-cache.num-blocks=50000000").hasMessageContaining("does not fit");
    }

    @Test
    void aServedNameIsTrimmed() {
        PodserveProperties padded = new PodserveProperties(new PodserveProperties.Model(null, "auto", 1, " tiny ", null, "auto", "auto"),
                new PodserveProperties.Scheduler(64, 4, 0, 0, "", "headroom", true, "fcfs"), new PodserveProperties.KvCache(16, DataSize.ofMegabytes(4), 0, true),
                new PodserveProperties.Cpu(1), new PodserveProperties.Api(Duration.ofSeconds(15), java.util.List.of()), null, null, null, "cpu");
        ServingModel m = ModelLoader.load(padded, EngineListener.NONE);
        try {
            assertThat(m.servedName()).isEqualTo("tiny");
        } finally {
            m.engine().close();
        }
    }

    @Test
    void unreadableTemplateNamesTheKey() {
        assertThatThrownBy(() -> ModelLoader.load(props(null, dir.resolve("missing.jinja").toString(), 0), EngineListener.NONE))
                .hasMessageContaining("podserve.model.chat-template");
    }

    @Test
    void folderProblemsNameThePath() throws IOException {
        assertThatThrownBy(() -> ModelLoader.load(props(dir.resolve("nope").toString(), null, 0), EngineListener.NONE))
                .hasMessageContaining("podserve.model.path").hasMessageContaining("is not a directory");
        assertThatThrownBy(() -> ModelLoader.load(props(dir.toString(), null, 0), EngineListener.NONE))
                .hasMessageContaining("has no config.json");
    }

    @Test
    void contextLongerThanTheModelsIsRefused() {
        assertThatThrownBy(() -> ModelLoader.load(props(null, null, 100_000), EngineListener.NONE))
                .hasMessageContaining("podserve.scheduler.max-model-len=100000").hasMessageContaining("4096");
    }
}
