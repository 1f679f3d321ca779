package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpStatus;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import tools.jackson.databind.JsonNode;

/**
 * A Mistral model's calls ({@code tool-call-format: mistral}) under a template that, as Mistral's own
 * chat templates do, refuses any tool call id but 9 letters and digits: the ids the server hands out
 * must come back through the template on the next turn, as vLLM's Mistral parser makes them
 * ({@code MistralToolCall.generate_random_id}).
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@Import(ScriptedAnswers.class)
class MistralToolCallIdApiTest extends LiveServerApiTest {

    private static final String TEMPLATE = """
            {%- for message in messages %}
                {%- if message.role == 'user' %}
                    {{- '[INST]' + message.content + '[/INST]' }}
                {%- elif message.tool_calls is defined and message.tool_calls is not none %}
                    {{- '[TOOL_CALLS][' }}
                    {%- for tool_call in message.tool_calls %}
                        {%- set out = tool_call.function|tojson %}
                        {{- out[:-1] }}
                        {%- if not tool_call.id is defined or tool_call.id|length != 9 %}
                            {{- raise_exception('Tool call IDs should be alphanumeric strings with length 9!') }}
                        {%- endif %}
                        {{- ', "id": "' + tool_call.id + '"}' }}
                        {%- if not loop.last %}{{- ', ' }}{%- else %}{{- ']</s>' }}{%- endif %}
                    {%- endfor %}
                {%- elif message.role == 'assistant' %}
                    {{- message.content + '</s>' }}
                {%- elif message.role == 'tool' %}
                    {%- if message.tool_call_id is not defined or message.tool_call_id|length != 9 %}
                        {{- raise_exception('Tool call IDs should be alphanumeric strings with length 9!') }}
                    {%- endif %}
                    {{- '[TOOL_RESULTS]{"content": ' + message.content|tojson + ', "call_id": "' + message.tool_call_id + '"}[/TOOL_RESULTS]' }}
                {%- endif %}
            {%- endfor %}
            {%- if tools %}{{- '[AVAILABLE_TOOLS]' + tools|tojson + '[/AVAILABLE_TOOLS]' }}{%- endif %}""";

    @DynamicPropertySource
    static void model(DynamicPropertyRegistry registry) throws IOException {
        Path file = Files.createTempFile("mistral", ".jinja");
        file.toFile().deleteOnExit();
        Files.writeString(file, TEMPLATE);
        registry.add("podserve.model.chat-template", file::toString);
        registry.add("podserve.model.tool-call-format", () -> "mistral");
    }

    private static final String TOOLS = """
            [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object",
              "properties": {"city": {"type": "string", "maxLength": 12}}, "required": ["city"], "additionalProperties": false}}}]""";
    private static final String USER = "{\"role\": \"user\", \"content\": \"Weather in Paris?\"}";

    @Test
    void theIdsOfAMistralModelsCallsGoBackThroughItsTemplate() {
        ScriptedAnswers.answer(holder, "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}]");
        JsonNode first = ApiTestSupport.post(client, "/v1/chat/completions", "{\"messages\": [" + USER + "], \"tools\": " + TOOLS
                + ", \"temperature\": 0, \"max_tokens\": 100}", HttpStatus.OK).get("choices").get(0);
        JsonNode call = first.get("message").get("tool_calls").get(0);
        String id = call.get("id").asString();
        assertThat(id).as("Mistral's templates take back 9 letters and digits only").matches("[A-Za-z0-9]{9}");

        // The next turn sends the call and its result back, as every client of a tool loop does.
        String history = "[" + USER + ", {\"role\": \"assistant\", \"content\": null, \"tool_calls\": [" + call + "]}, "
                + "{\"role\": \"tool\", \"tool_call_id\": \"" + id + "\", \"content\": \"sunny\"}]";
        ApiTestSupport.post(client, "/v1/chat/completions", "{\"messages\": " + history + ", \"tools\": " + TOOLS
                + ", \"tool_choice\": \"none\", \"max_tokens\": 5}", HttpStatus.OK);
    }

    @Test
    void streamedCallsHaveTheSameShapeOfId() {
        ScriptedAnswers.answer(holder, "[TOOL_CALLS][{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\"}}]");
        String sse = ApiTestSupport.postRaw(client, "/v1/chat/completions", "{\"messages\": [" + USER + "], \"tools\": " + TOOLS
                + ", \"temperature\": 0, \"max_tokens\": 100, \"stream\": true}", HttpStatus.OK);
        String id = null;
        for (String line : sse.split("\n")) {
            if (!line.startsWith("data: {")) continue;
            JsonNode delta = ApiTestSupport.JSON.readTree(line.substring(6)).get("choices").get(0).get("delta");
            if (delta.has("tool_calls") && delta.get("tool_calls").get(0).has("id")) id = delta.get("tool_calls").get(0).get("id").asString();
        }
        assertThat(id).as(sse).matches("[A-Za-z0-9]{9}");
    }

    @Test
    void aNamedCallsIdIsMistralsShapeToo() {
        String named = ", \"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"get_weather\"}}";
        JsonNode call = ApiTestSupport.post(client, "/v1/chat/completions", "{\"messages\": [" + USER + "], \"tools\": " + TOOLS
                + named + ", \"temperature\": 0, \"max_tokens\": 30}", HttpStatus.OK)
                .get("choices").get(0).get("message").get("tool_calls").get(0);
        assertThat(call.get("id").asString()).as("%s", call).matches("[A-Za-z0-9]{9}");

        String sse = ApiTestSupport.postRaw(client, "/v1/chat/completions", "{\"messages\": [" + USER + "], \"tools\": " + TOOLS
                + named + ", \"temperature\": 0, \"max_tokens\": 30, \"stream\": true}", HttpStatus.OK);
        String id = null;
        for (String line : sse.split("\n")) {
            if (!line.startsWith("data: {")) continue;
            JsonNode delta = ApiTestSupport.JSON.readTree(line.substring(6)).get("choices").get(0).get("delta");
            if (delta.has("tool_calls") && delta.get("tool_calls").get(0).has("id")) id = delta.get("tool_calls").get(0).get("id").asString();
        }
        assertThat(id).as(sse).matches("[A-Za-z0-9]{9}");
    }
}
