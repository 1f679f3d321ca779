package dev.podserve.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Small templates, one Jinja feature or corner each (loop filters, a loop's else, string indexing
 * and repetition, tests after filters, Python's printing of True and None), rendered by ChatTemplate
 * and compared with what Jinja printed for them: {@code tools/jinja_parity.py} wrote the expected
 * strings into {@code tokenizer/jinja-parity.json}.
 */
class JinjaParityTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    static Stream<Arguments> cases() throws IOException {
        JsonNode spec;
        try (InputStream in = JinjaParityTest.class.getResourceAsStream("/tokenizer/jinja-parity.json")) {
            spec = JSON.readTree(in);
        }
        List<Arguments> all = new ArrayList<>();
        for (JsonNode c : spec.get("cases")) {
            all.add(Arguments.of(c.get("template").asString(), c.has("error") ? null : c.get("expected").asString(),
                    spec.get("variables")));
        }
        return all.stream();
    }

    @ParameterizedTest
    @MethodSource("cases")
    @SuppressWarnings("unchecked")
    void rendersAsJinjaDoes(String template, String expected, JsonNode variables) {
        Map<String, Object> vars = JSON.convertValue(variables, Map.class);
        List<Map<String, Object>> messages = (List<Map<String, Object>>) vars.get("messages");
        Map<String, Object> extra = new HashMap<>(vars);
        extra.remove("messages");
        extra.remove("add_generation_prompt");
        ChatTemplate t = new ChatTemplate(template, (String) vars.get("bos_token"), (String) vars.get("eos_token"));
        boolean generationPrompt = (Boolean) vars.get("add_generation_prompt");
        if (expected == null) {
            assertThatThrownBy(() -> t.render(messages, generationPrompt, extra)).isInstanceOf(ChatTemplateException.class);
        } else {
            assertThat(t.render(messages, generationPrompt, extra)).isEqualTo(expected);
        }
    }
}
