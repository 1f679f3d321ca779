package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpStatus;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import tools.jackson.databind.JsonNode;

/**
 * A model that writes Qwen3-Coder's XML calls, told from a chat template that writes
 * {@code <function=} (and {@code <tool_call>}, which alone would make it Hermes): with the embedded
 * model steered to scripted answers ({@link ScriptedAnswers}), {@code tool_choice: "auto"} must read
 * the calls back, typed by the tools' schemas, streamed or not, and leave the XML unbound; forced calls
 * keep podserve's JSON forms.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@Import(ScriptedAnswers.class)
class Qwen3CoderToolCallApiTest extends LiveServerApiTest {

    /** As Qwen3-Coder's templates write calls back into the history: XML, each argument on lines of its own. */
    private static final String TEMPLATE = """
            {%- if tools %}{{- '<|im_start|>system\\nTools:\\n' + tools|tojson + '<|im_end|>\\n' }}{%- endif %}
            {%- for message in messages %}
                {%- set content = message.content if message.content is string else '' %}
                {{- '<|im_start|>' + message.role + '\\n' + content }}
                {%- if message.tool_calls is defined and message.tool_calls %}
                    {%- for tool_call in message.tool_calls %}
                        {{- '<tool_call>\\n<function=' + tool_call.function.name + '>\\n' }}
                        {%- for name, value in tool_call.function.arguments | items %}
                            {{- '<parameter=' + name + '>\\n' + (value if value is string else value|tojson) + '\\n</parameter>\\n' }}
                        {%- endfor %}
                        {{- '</function>\\n</tool_call>' }}
                    {%- endfor %}
                {%- endif %}
                {{- '<|im_end|>\\n' }}
            {%- endfor %}
            {%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}{%- endif %}""";

    @DynamicPropertySource
    static void model(DynamicPropertyRegistry registry) throws IOException {
        Path file = Files.createTempFile("qwen3-coder", ".jinja");
        file.toFile().deleteOnExit();
        Files.writeString(file, TEMPLATE);
        registry.add("podserve.model.chat-template", file::toString);
    }

    private static final String TOOLS = """
            [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object",
              "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city"],
              "additionalProperties": false}}},
             {"type": "function", "function": {"name": "ping"}}]""";
    private static final String USER = "{\"role\": \"user\", \"content\": \"Weather in Paris?\"}";
    private static final String CALL = "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n"
            + "<parameter=days>\n3\n</parameter>\n</function>\n</tool_call>";
    private static final String ARGUMENTS = "{\"city\":\"Paris\",\"days\":3}";

    private JsonNode chat(String messages, String fields) {
        return ApiTestSupport.post(client, "/v1/chat/completions", "{\"messages\": " + messages + ", \"tools\": " + TOOLS
                + ", \"temperature\": 0, \"max_tokens\": 400" + fields + "}", HttpStatus.OK).get("choices").get(0);
    }

    private static List<String> calls(JsonNode choice) {
        List<String> out = new ArrayList<>();
        JsonNode calls = choice.get("message").get("tool_calls");
        if (calls == null || calls.isNull()) return out;
        for (JsonNode c : calls) out.add(c.get("function").get("name").asString() + c.get("function").get("arguments").asString());
        return out;
    }

    @Test
    void xmlCallsComeBackAsToolCallsWithTheContentBeforeThem() {
        ScriptedAnswers.answer(holder, "Let me look.\n" + CALL + "\n<tool_call>\n<function=ping>\n</function>\n</tool_call>");
        JsonNode c = chat("[" + USER + "]", "");
        assertThat(c.get("message").get("content").asString()).isEqualTo("Let me look.\n");
        assertThat(calls(c)).containsExactly("get_weather" + ARGUMENTS, "ping{}");
        assertThat(c.get("message").get("tool_calls").get(0).get("id").asString()).startsWith("call_");
        assertThat(c.get("finish_reason").asString()).isEqualTo("tool_calls");

        // The call goes back through the template on the next turn, as a tool loop sends it.
        JsonNode call = c.get("message").get("tool_calls").get(0);
        String history = "[" + USER + ", {\"role\": \"assistant\", \"content\": null, \"tool_calls\": [" + call + "]}, "
                + "{\"role\": \"tool\", \"tool_call_id\": \"" + call.get("id").asString() + "\", \"content\": \"sunny\"}]";
        ScriptedAnswers.answer(holder, "It is sunny.");
        JsonNode next = chat(history, "");
        assertThat(next.get("message").get("content").asString()).isEqualTo("It is sunny.");
        assertThat(next.get("finish_reason").asString()).isEqualTo("stop");
    }

    @Test
    void streamedCallsAddUpToTheSameArgumentsAndNoTagIsContent() {
        ScriptedAnswers.answer(holder, "Let me look.\n" + CALL);
        String sse = ApiTestSupport.postRaw(client, "/v1/chat/completions", "{\"messages\": [" + USER + "], \"tools\": " + TOOLS
                + ", \"temperature\": 0, \"max_tokens\": 400, \"stream\": true}", HttpStatus.OK);
        StringBuilder content = new StringBuilder();
        List<String> names = new ArrayList<>();
        StringBuilder arguments = new StringBuilder();
        String finish = null;
        for (String line : sse.split("\n")) {
            if (!line.startsWith("data: {")) continue;
            JsonNode choice = ApiTestSupport.JSON.readTree(line.substring(6)).get("choices").get(0);
            JsonNode delta = choice.get("delta");
            if (delta.hasNonNull("content")) content.append(delta.get("content").asString());
            if (delta.has("tool_calls")) {
                JsonNode c = delta.get("tool_calls").get(0);
                assertThat(c.get("index").asInt()).isZero();
                if (c.has("id")) {
                    assertThat(c.get("type").asString()).isEqualTo("function");
                    names.add(c.get("function").get("name").asString());
                }
                arguments.append(c.get("function").get("arguments").asString());
            }
            if (!choice.get("finish_reason").isNull()) finish = choice.get("finish_reason").asString();
        }
        assertThat(content.toString()).as(sse).isEqualTo("Let me look.\n");
        assertThat(names).containsExactly("get_weather");
        assertThat(arguments.toString()).isEqualTo(ARGUMENTS);
        assertThat(finish).isEqualTo("tool_calls");
    }

    @Test
    void forcedCallsKeepTheirJsonFormsUnderAnXmlModel() {
        ScriptedAnswers.answer(holder, "[{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\", \"days\": 3}}]");
        JsonNode required = chat("[" + USER + "]", ", \"tool_choice\": \"required\"");
        assertThat(calls(required)).containsExactly("get_weather{\"city\": \"Paris\", \"days\": 3}");
        assertThat(required.get("finish_reason").asString()).isEqualTo("tool_calls");

        ScriptedAnswers.answer(holder, "{\"city\": \"Paris\"}");
        JsonNode named = chat("[" + USER + "]", ", \"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"get_weather\"}}");
        assertThat(calls(named)).containsExactly("get_weather{\"city\": \"Paris\"}");
    }

    @Test
    void autoWithAStructuredOutputIsStillA400() {
        ApiTestSupport.post(client, "/v1/chat/completions", "{\"messages\": [" + USER + "], \"tools\": " + TOOLS
                + ", \"max_tokens\": 5, \"response_format\": {\"type\": \"json_object\"}}", HttpStatus.BAD_REQUEST);
    }
}
