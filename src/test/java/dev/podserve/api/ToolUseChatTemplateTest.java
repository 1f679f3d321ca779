package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.util.unit.DataSize;

import dev.podserve.api.dto.ChatMessage;
import dev.podserve.config.ModelLoader;
import dev.podserve.config.PodserveProperties;
import dev.podserve.engine.EngineListener;
import dev.podserve.engine.ServingModel;

/**
 * A checkpoint with several named chat templates (Hermes-2-Pro, Command-R): transformers'
 * get_chat_template(tools=...) picks "tool_use" when the request has tools and "default" otherwise,
 * and vLLM resolves the template through it with the request's tools.
 */
class ToolUseChatTemplateTest {

    @TempDir
    Path dir;

    private static final List<Map<String, Object>> TOOLS = List.of(Map.of("type", "function",
            "function", Map.of("name", "get_weather", "parameters", Map.of("type", "object"))));
    private static final List<ChatMessage> HI = List.of(new ChatMessage("user", "hi", null));

    private void checkpoint() throws IOException {
        for (String f : List.of("config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json", "model.safetensors")) {
            try (InputStream in = getClass().getClassLoader().getResourceAsStream("fixtures/mistral-window/" + f)) {
                Files.copy(in, dir.resolve(f));
            }
        }
    }

    private PodserveProperties props(String template) {
        return new PodserveProperties(new PodserveProperties.Model(dir.toString(), "auto", 1, "m", template, "auto", "auto"),
                new PodserveProperties.Scheduler(64, 4, 0, 0, "", "headroom", true, "fcfs"), new PodserveProperties.KvCache(16, DataSize.ofMegabytes(4), 0, true),
                new PodserveProperties.Cpu(1), new PodserveProperties.Api(Duration.ofSeconds(15), List.of()), null, null, null, "cpu");
    }

    private String renderWith(List<Map<String, Object>> tools, String template) {
        ServingModel m = ModelLoader.load(props(template), EngineListener.NONE);
        try {
            return ChatPrompts.render(m, HI, true, tools);
        } finally {
            m.engine().close();
        }
    }

    @Test
    void aRequestWithToolsGetsTheToolUseTemplate() throws IOException {
        checkpoint();
        Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"bos_token": "<s>", "eos_token": "</s>",
                 "chat_template": [
                   {"name": "default", "template": "D:{% for m in messages %}{{ m.content }}{% endfor %}"},
                   {"name": "tool_use", "template": "T:{{ tools[0].function.name }}:{% for m in messages %}{{ m.content }}{% endfor %}"}]}
                """);
        assertThat(renderWith(null, null)).isEqualTo("D:hi");
        assertThat(renderWith(TOOLS, null)).isEqualTo("T:get_weather:hi");
    }

    /** transformers 4.5x+ saves extra named templates as additional_chat_templates/NAME.jinja beside chat_template.jinja. */
    @Test
    void aToolUseTemplateFileIsUsedForToolsToo() throws IOException {
        checkpoint();
        Files.writeString(dir.resolve("chat_template.jinja"), "D:{% for m in messages %}{{ m.content }}{% endfor %}");
        Files.createDirectories(dir.resolve("additional_chat_templates"));
        Files.writeString(dir.resolve("additional_chat_templates/tool_use.jinja"),
                "T:{{ tools[0].function.name }}:{% for m in messages %}{{ m.content }}{% endfor %}");
        assertThat(renderWith(null, null)).isEqualTo("D:hi");
        assertThat(renderWith(TOOLS, null)).isEqualTo("T:get_weather:hi");
    }

    /** A template given by podserve.model.chat-template (vLLM's --chat-template) is used for every request. */
    @Test
    void aConfiguredTemplateStillWinsWithTools() throws IOException {
        checkpoint();
        Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"bos_token": "<s>", "eos_token": "</s>",
                 "chat_template": [{"name": "default", "template": "D"}, {"name": "tool_use", "template": "T"}]}
                """);
        Path own = dir.resolve("own.jinja");
        Files.writeString(own, "O:{% for m in messages %}{{ m.content }}{% endfor %}");
        assertThat(renderWith(TOOLS, own.toString())).isEqualTo("O:hi");
    }
}
