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
 * Assistant turns in the request's history reach the chat template as vLLM hands them over
 * ({@code _parse_chat_message_content}, {@code _postprocess_messages}): an empty {@code tool_calls}
 * list is dropped, arguments left empty or null are {@code {}}, and the turn's {@code reasoning}
 * (or {@code reasoning_content}) is there for templates that write interleaved thinking (Qwen3's);
 * and a reasoning model's thinking comes back under vLLM's {@code reasoning} as well as
 * {@code reasoning_content}. The template below checks calls as Llama 3.1's does.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@Import(ScriptedAnswers.class)
class AssistantHistoryApiTest extends LiveServerApiTest {

    private static final String TEMPLATE = """
            {%- for message in messages %}
                {%- if message.role == 'assistant' and 'tool_calls' in message %}
                    {%- if not message.tool_calls|length == 1 %}
                        {{- raise_exception('This model only supports single tool-calls at once!') }}
                    {%- endif %}
                    {%- set call = message.tool_calls[0].function %}
                    {{- '<call>{"name": "' + call.name + '", "parameters": ' + call.arguments|tojson + '}</call>' }}
                {%- elif message.role == 'assistant' %}
                    {%- if message.reasoning_content is defined and message.reasoning_content is not none %}
                        {{- '<think>' + message.reasoning_content + '</think>' }}
                    {%- endif %}
                    {{- '<assistant>' + message.content + '</assistant>' }}
                {%- else %}
                    {{- '<' + message.role + '>' + message.content + '</' + message.role + '>' }}
                {%- endif %}
            {%- endfor %}
            {%- if add_generation_prompt %}{{- '<assistant>' }}{%- endif %}""";

    @DynamicPropertySource
    static void template(DynamicPropertyRegistry registry) throws IOException {
        Path file = Files.createTempFile("history", ".jinja");
        file.toFile().deleteOnExit();
        Files.writeString(file, TEMPLATE);
        registry.add("podserve.model.chat-template", file::toString);
    }

    /** The prompt the template renders from these messages. */
    private String prompt(String messages) {
        JsonNode tokens = ApiTestSupport.post(client, "/tokenize", "{\"messages\": " + messages + ", \"add_generation_prompt\": false, "
                + "\"return_token_strs\": true}", HttpStatus.OK);
        return String.join("", ApiTestSupport.JSON.convertValue(tokens.get("token_strs"), String[].class));
    }

    private static String call(String arguments) {
        return "{\"id\": \"call_1\", \"type\": \"function\", \"function\": {\"name\": \"ping\", \"arguments\": " + arguments + "}}";
    }

    @Test
    void anEmptyToolCallsListIsAnAssistantTurnWithoutCalls() {
        String prompt = prompt("[{\"role\": \"user\", \"content\": \"Hi\"}, "
                + "{\"role\": \"assistant\", \"content\": \"Hello\", \"tool_calls\": []}, {\"role\": \"user\", \"content\": \"Bye\"}]");
        assertThat(prompt).isEqualTo("<user>Hi</user><assistant>Hello</assistant><user>Bye</user>");
    }

    @Test
    void argumentsLeftEmptyOrNullAreAnEmptyObject() {
        for (String arguments : new String[] {"\"\"", "null"}) {
            String prompt = prompt("[{\"role\": \"user\", \"content\": \"Hi\"}, {\"role\": \"assistant\", \"content\": null, "
                    + "\"tool_calls\": [" + call(arguments) + "]}]");
            assertThat(prompt).as(arguments).isEqualTo("<user>Hi</user><call>{\"name\": \"ping\", \"parameters\": {}}</call>");
        }
    }

    @Test
    void anAssistantTurnsReasoningReachesTheTemplate() {
        for (String field : new String[] {"reasoning", "reasoning_content"}) {
            String prompt = prompt("[{\"role\": \"user\", \"content\": \"Sunny?\"}, {\"role\": \"assistant\", \"content\": \"Yes\", \""
                    + field + "\": \"It is June.\"}]");
            assertThat(prompt).as(field).isEqualTo("<user>Sunny?</user><think>It is June.</think><assistant>Yes</assistant>");
        }
    }

    @Test
    void theThinkingComesBackAsReasoningToo() {
        ScriptedAnswers.answer(holder, "<think>It is June.</think>Yes.");
        String body = "{\"messages\": [{\"role\": \"user\", \"content\": \"Sunny?\"}], \"temperature\": 0, \"max_tokens\": 50";
        JsonNode message = ApiTestSupport.post(client, "/v1/chat/completions", body + "}", HttpStatus.OK)
                .get("choices").get(0).get("message");
        assertThat(message.get("reasoning_content").asString()).isEqualTo("It is June.");
        assertThat(message.has("reasoning")).as("%s", message).isTrue();
        assertThat(message.get("reasoning").asString()).isEqualTo("It is June.");

        String sse = ApiTestSupport.postRaw(client, "/v1/chat/completions", body + ", \"stream\": true}", HttpStatus.OK);
        StringBuilder reasoning = new StringBuilder();
        StringBuilder reasoningContent = new StringBuilder();
        for (String line : sse.split("\n")) {
            if (!line.startsWith("data: {")) continue;
            JsonNode delta = ApiTestSupport.JSON.readTree(line.substring(6)).get("choices").get(0).get("delta");
            if (delta.hasNonNull("reasoning")) reasoning.append(delta.get("reasoning").asString());
            if (delta.hasNonNull("reasoning_content")) reasoningContent.append(delta.get("reasoning_content").asString());
        }
        assertThat(reasoningContent.toString()).isEqualTo("It is June.");
        assertThat(reasoning.toString()).as(sse).isEqualTo("It is June.");
    }
}
