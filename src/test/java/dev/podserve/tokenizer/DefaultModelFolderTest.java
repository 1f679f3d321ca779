package dev.podserve.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.podserve.model.ModelConfig;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The embedded podserve-tiny folder: what tools/MakeDefaultModel.java writes, and consistent with itself. */
class DefaultModelFolderTest {

    private static final List<String> FILES =
            List.of("config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json");

    @Test
    void committedFilesAreTheGeneratorsOutput(@TempDir Path out) throws Exception {
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process p = new ProcessBuilder(java, "tools/MakeDefaultModel.java", out.toString())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(log).isZero();
        for (String file : FILES) {
            assertThat(Files.readString(out.resolve(file)))
                    .as(file).isEqualTo(Files.readString(Path.of("src/main/resources/models/podserve-tiny", file)));
        }
    }

    @Test
    void configMatchesTheTokenizer() throws IOException {
        Path dir = TestTokenizers.tinyDir();
        ModelConfig config = ModelConfig.load(dir.resolve("config.json"));
        HfTokenizer tok = TestTokenizers.tiny();
        assertThat(config.architecture()).isEqualTo("LlamaForCausalLM");
        assertThat(config.vocabSize()).isEqualTo(tok.vocabSize()).isEqualTo(259);
        assertThat(config.numLayers()).isEqualTo(4);
        assertThat(config.hiddenSize()).isEqualTo(256);
        assertThat(config.numHeads()).isEqualTo(8);
        assertThat(config.numKvHeads()).isEqualTo(2);
        assertThat(config.headDim()).isEqualTo(32);
        assertThat(config.maxPositionEmbeddings()).isEqualTo(4096);
        assertThat(config.tieWordEmbeddings()).isFalse();
        assertThat(config.bosTokenId()).isEqualTo(tok.bosTokenId().getAsInt());
        assertThat(config.eosTokenIds()).containsExactly(tok.eosTokenId().getAsInt());
    }

    @Test
    void generationConfigStopsOnBothEndTokensAndLeavesSamplingAlone() throws IOException {
        JsonNode g = JsonMapper.builder().build().readTree(
                Files.readString(TestTokenizers.tinyDir().resolve("generation_config.json")));
        assertThat(g.path("eos_token_id").values()).extracting(JsonNode::asInt).containsExactly(258, 256);
        for (String sampling : List.of("temperature", "top_p", "top_k", "do_sample", "repetition_penalty")) {
            assertThat(g.has(sampling)).as(sampling).isFalse();
        }
    }

    @Test
    void renderedChatEncodesToItsMarkers() {
        HfTokenizer tok = TestTokenizers.tiny();
        ChatTemplate template = new ChatTemplate(tok.chatTemplate().orElseThrow(), tok.bosToken(), tok.eosToken());
        String prompt = template.render(List.of(Map.of("role", "user", "content", "hi")), true, null);
        assertThat(tok.encodeNoSpecial(prompt)).containsExactly(
                257, 'u', 's', 'e', 'r', '\n', 'h', 'i', 258, '\n', 257, 'a', 's', 's', 'i', 's', 't', 'a', 'n', 't', '\n');
    }
}
