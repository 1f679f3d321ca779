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
 * A model that writes Mistral v11's calls ({@code [TOOL_CALLS]NAME[ARGS]{...}}), told from a chat
 * template that writes {@code [ARGS]} (and {@code [TOOL_CALLS]}, which alone would make it the old
 * array format): with the embedded model steered to scripted answers ({@link ScriptedAnswers}),
 * {@code tool_choice: "auto"} must read the calls back, streamed or not, with ids the template takes
 * back in the next turn; forced calls keep podserve's JSON forms. (The embedded tokenizer has no
 * such special tokens: the markers are plain text here, and read as such.)
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@Import(ScriptedAnswers.class)
class MistralV11ToolCallApiTest extends LiveServerApiTest {

    /** As Mistral's v11 templates write calls back into the history, refusing any id but 9 letters and digits. */
    private static final String TEMPLATE = """
            {%- if tools %}{{- '[AVAILABLE_TOOLS]' + tools|tojson + '[/AVAILABLE_TOOLS]' }}{%- endif %}
            {%- for message in messages %}
                {%- if message.role == 'user' %}
                    {{- '[INST]' + message.content + '[/INST]' }}
                {%- elif message.role == 'assistant' %}
                    {%- if message.content is string %}{{- message.content }}{%- endif %}
                    {%- if message.tool_calls is defined and message.tool_calls %}
                        {%- for tool_call in message.tool_calls %}
                            {%- if tool_call.id is not defined or tool_call.id|length != 9 %}
                                {{- raise_exception('Tool call IDs should be alphanumeric strings with length 9!') }}
                            {%- endif %}
                            {{- '[TOOL_CALLS]' + tool_call.function.name + '[ARGS]' + tool_call.function.arguments|tojson }}
                        {%- endfor %}
                    {%- endif %}
                    {{- '</s>' }}
                {%- elif message.role == 'tool' %}
                    {%- if message.tool_call_id is not defined or message.tool_call_id|length != 9 %}
                        {{- raise_exception('Tool call IDs should be alphanumeric strings with length 9!') }}
                    {%- endif %}
                    {{- '[TOOL_RESULTS]' + message.content + '[/TOOL_RESULTS]' }}
                {%- endif %}
            {%- endfor %}""";

    @DynamicPropertySource
    static void model(DynamicPropertyRegistry registry) throws IOException {
        Path file = Files.createTempFile("mistral-v11", ".jinja");
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
    private static final String ARGUMENTS = "{\"city\": \"Paris\", \"days\": 3}";
    private static final String CALL = "[TOOL_CALLS]get_weather[ARGS]" + ARGUMENTS;

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
    void callsComeBackAsToolCallsWithShortIdsThatGoBackThroughTheTemplate() {
        ScriptedAnswers.answer(holder, "Let me look." + CALL + "[TOOL_CALLS]ping[ARGS]{}");
        JsonNode c = chat("[" + USER + "]", "");
        assertThat(c.get("message").get("content").asString()).isEqualTo("Let me look.");
        assertThat(calls(c)).containsExactly("get_weather" + ARGUMENTS, "ping{}");
        JsonNode call = c.get("message").get("tool_calls").get(0);
        assertThat(call.get("id").asString()).as("Mistral's templates take back 9 letters and digits only").matches("[A-Za-z0-9]{9}");
        assertThat(c.get("finish_reason").asString()).isEqualTo("tool_calls");

        // The call goes back through the template on the next turn, as a tool loop sends it.
        String history = "[" + USER + ", {\"role\": \"assistant\", \"content\": null, \"tool_calls\": [" + call + "]}, "
                + "{\"role\": \"tool\", \"tool_call_id\": \"" + call.get("id").asString() + "\", \"content\": \"sunny\"}]";
        ScriptedAnswers.answer(holder, "It is sunny.");
        JsonNode next = chat(history, "");
        assertThat(next.get("message").get("content").asString()).isEqualTo("It is sunny.");
        assertThat(next.get("finish_reason").asString()).isEqualTo("stop");
    }

    @Test
    void streamedCallsAddUpToTheSameArgumentsAndNoMarkerIsContent() {
        ScriptedAnswers.answer(holder, "Let me look.\n[TOOL_CALLS]get_weather[CALL_ID]x9Y8z7W6v[ARGS]" + ARGUMENTS);
        String sse = ApiTestSupport.postRaw(client, "/v1/chat/completions", "{\"messages\": [" + USER + "], \"tools\": " + TOOLS
                + ", \"temperature\": 0, \"max_tokens\": 400, \"stream\": true}", HttpStatus.OK);
        StringBuilder content = new StringBuilder();
        List<String> names = new ArrayList<>();
        StringBuilder arguments = new StringBuilder();
        String id = null;
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
                    id = c.get("id").asString();
                }
                arguments.append(c.get("function").get("arguments").asString());
            }
            if (!choice.get("finish_reason").isNull()) finish = choice.get("finish_reason").asString();
        }
        assertThat(content.toString()).as(sse).isEqualTo("Let me look.\n");
        assertThat(names).containsExactly("get_weather");
        assertThat(id).matches("[A-Za-z0-9]{9}").isNotEqualTo("x9Y8z7W6v");
        assertThat(arguments.toString()).isEqualTo(ARGUMENTS);
        assertThat(finish).isEqualTo("tool_calls");
    }

    @Test
    void aCallCutByAStopDoesNotFinishInToolCalls() {
        ScriptedAnswers.answer(holder, CALL);
        JsonNode c = chat("[" + USER + "]", ", \"stop\": [\"Paris\"]");
        assertThat(calls(c)).containsExactly("get_weather{\"city\": \"");
        assertThat(c.get("finish_reason").asString()).isEqualTo("stop");
    }

    @Test
    void forcedCallsKeepTheirJsonFormsAndRequiredKeepsShortIds() {
        ScriptedAnswers.answer(holder, "[{\"name\": \"get_weather\", \"parameters\": {\"city\": \"Paris\", \"days\": 3}}]");
        JsonNode required = chat("[" + USER + "]", ", \"tool_choice\": \"required\"");
        assertThat(calls(required)).containsExactly("get_weather{\"city\": \"Paris\", \"days\": 3}");
        assertThat(required.get("message").get("tool_calls").get(0).get("id").asString()).matches("[A-Za-z0-9]{9}");
        assertThat(required.get("finish_reason").asString()).isEqualTo("tool_calls");

        ScriptedAnswers.answer(holder, "{\"city\": \"Paris\"}");
        JsonNode named = chat("[" + USER + "]", ", \"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"get_weather\"}}");
        assertThat(calls(named)).containsExactly("get_weather{\"city\": \"Paris\"}");
    }

    @Test
    void parallelToolCallsFalseReadsTheFirstCallOnly() {
        ScriptedAnswers.answer(holder, CALL + "[TOOL_CALLS]ping[ARGS]{}");
        JsonNode c = chat("[" + USER + "]", ", \"parallel_tool_calls\": false");
        assertThat(calls(c)).containsExactly("get_weather" + ARGUMENTS);
        assertThat(c.get("finish_reason").asString()).isEqualTo("tool_calls");
    }
}
