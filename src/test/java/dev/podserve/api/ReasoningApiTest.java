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
 * A reasoning model over HTTP: the embedded model under a chat template that opens a
 * {@code <think>} block at the start of every answer (as DeepSeek-R1's and newer Qwen3's do), or
 * closes an empty one with {@code enable_thinking: false} (as Qwen3's does), or leaves the choice to
 * the model with {@code open_thinking: false} (as the first Qwen3 template does), steered to scripted
 * answers ({@link ScriptedAnswers}). The thinking must come back as {@code reasoning_content},
 * streamed or not, and structured outputs and tool calls must bind only the answer after it.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@Import(ScriptedAnswers.class)
class ReasoningApiTest extends LiveServerApiTest {

    private static final String TEMPLATE = """
            {%- for message in messages %}
                {{- '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}
            {%- endfor %}
            {%- if tools is defined and tools %}
                {{- '<|im_start|>system\\nCall one as <tool_call>{\"name\": ..., \"arguments\": ...}</tool_call>: ' + tools | tojson + '<|im_end|>\\n' }}
            {%- endif %}
            {%- if add_generation_prompt %}
                {{- '<|im_start|>assistant\\n' }}
                {%- if enable_thinking is defined and not enable_thinking %}
                    {{- '<think>\\n\\n</think>\\n\\n' }}
                {%- elif open_thinking is defined and not open_thinking %}
                {%- else %}
                    {{- '<think>\\n' }}
                {%- endif %}
            {%- endif %}""";

    @DynamicPropertySource
    static void template(DynamicPropertyRegistry registry) throws IOException {
        Path file = Files.createTempFile("thinking", ".jinja");
        file.toFile().deleteOnExit();
        Files.writeString(file, TEMPLATE);
        registry.add("podserve.model.chat-template", file::toString);
    }

    private static final String USER = "{\"role\": \"user\", \"content\": \"Is it sunny in Paris?\"}";
    private static final String TOOLS = """
            [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object",
              "properties": {"city": {"type": "string", "maxLength": 12}}, "required": ["city"], "additionalProperties": false}}}]""";

    private JsonNode chat(String fields) {
        return ApiTestSupport.post(client, "/v1/chat/completions", "{\"messages\": [" + USER + "], \"temperature\": 0, \"max_tokens\": 200"
                + fields + "}", HttpStatus.OK).get("choices").get(0);
    }

    /** The stream's thinking and answer, each joined. */
    private List<String> stream(String fields) {
        String sse = ApiTestSupport.postRaw(client, "/v1/chat/completions", "{\"messages\": [" + USER
                + "], \"temperature\": 0, \"max_tokens\": 200, \"stream\": true" + fields + "}", HttpStatus.OK);
        StringBuilder reasoning = new StringBuilder();
        StringBuilder content = new StringBuilder();
        for (String line : sse.split("\n")) {
            if (!line.startsWith("data: {")) continue;
            JsonNode delta = ApiTestSupport.JSON.readTree(line.substring(6)).get("choices").get(0).get("delta");
            if (delta.hasNonNull("reasoning_content")) reasoning.append(delta.get("reasoning_content").asString());
            if (delta.hasNonNull("content")) content.append(delta.get("content").asString());
        }
        return List.of(reasoning.toString(), content.toString());
    }

    @Test
    void theThinkingComesBackApartFromTheAnswerStreamedOrNot() {
        ScriptedAnswers.answer(holder, "Paris is in France; June is warm.</think>\n\nYes, it is sunny.");
        JsonNode c = chat("");
        assertThat(c.get("message").get("reasoning_content").asString()).isEqualTo("Paris is in France; June is warm.");
        assertThat(c.get("message").get("content").asString()).isEqualTo("Yes, it is sunny.");
        assertThat(c.get("finish_reason").asString()).isEqualTo("stop");
        assertThat(stream("")).containsExactly("Paris is in France; June is warm.", "Yes, it is sunny.");

        // Cut short while thinking: all of it is thinking, and there is no answer yet.
        JsonNode cut = chat(", \"max_tokens\": 6");
        assertThat(cut.get("message").get("reasoning_content").asString()).isEqualTo("Paris ");
        assertThat(cut.get("message").get("content").asString()).isEmpty();
    }

    @Test
    void withThinkingTurnedOffThereIsNoReasoningContent() {
        ScriptedAnswers.answer(holder, "Yes, it is sunny.");
        JsonNode c = chat(", \"chat_template_kwargs\": {\"enable_thinking\": false}");
        assertThat(c.get("message").get("content").asString()).isEqualTo("Yes, it is sunny.");
        assertThat(c.get("message").has("reasoning_content")).isFalse();
        JsonNode tokens = ApiTestSupport.post(client, "/tokenize", "{\"messages\": [" + USER + "], \"add_generation_prompt\": true, "
                + "\"chat_template_kwargs\": {\"enable_thinking\": false}, \"return_token_strs\": true}", HttpStatus.OK);
        assertThat(String.join("", ApiTestSupport.JSON.convertValue(tokens.get("token_strs"), String[].class)))
                .as("the template saw the variable").contains("</think>");
        JsonNode e = ApiTestSupport.post(client, "/v1/chat/completions", "{\"messages\": [" + USER + "], "
                + "\"chat_template_kwargs\": {\"messages\": []}}", HttpStatus.BAD_REQUEST);
        ApiTestSupport.assertEnvelope(e, 400, "BadRequestError", "chat_template_kwargs");
    }

    @Test
    void aStructuredOutputBindsTheAnswerAfterTheThinking() {
        // The script's answer is not JSON: the format must win there, and only there.
        ScriptedAnswers.answer(holder, "I will answer in JSON, not {.</think>Sure thing");
        JsonNode c = chat(", \"response_format\": {\"type\": \"json_object\"}, \"max_tokens\": 300");
        assertThat(c.get("message").get("reasoning_content").asString()).isEqualTo("I will answer in JSON, not {.");
        String content = c.get("message").get("content").asString();
        if (c.get("finish_reason").asString().equals("stop")) {
            assertThat(ApiTestSupport.JSON.readTree(content).isObject()).as(content).isTrue();
        } else {
            assertThat(content).startsWith("{");
        }
    }

    /** Only the prompt's end opens the thinking: a {@code <think>} in a message is text, and a format binds from the start. */
    @Test
    void aThinkTagInAMessageOpensNothing() {
        ScriptedAnswers.answer(holder, "Not JSON at all.");
        JsonNode c = ApiTestSupport.post(client, "/v1/chat/completions", "{\"messages\": [{\"role\": \"user\", \"content\": "
                + "\"What is the <think> tag for?\"}], \"temperature\": 0, \"max_tokens\": 200, \"response_format\": {\"type\": \"json_object\"}, "
                + "\"chat_template_kwargs\": {\"open_thinking\": false}}", HttpStatus.OK).get("choices").get(0);
        assertThat(c.get("message").has("reasoning_content")).as("%s", c).isFalse();
        assertThat(c.get("message").get("content").asString().strip()).as("bound from its first token").startsWith("{");
    }

    /** A forced call is not left unanswered: while the model thinks, it cannot end. */
    @Test
    void aForcedCallCannotEndWhileTheModelThinks() {
        ScriptedAnswers.answer(holder, "Short thought.");
        JsonNode c = chat(", \"tools\": " + TOOLS + ", \"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"get_weather\"}}, "
                + "\"max_tokens\": 40");
        assertThat(c.get("finish_reason").asString()).as("%s", c).isEqualTo("length");
        assertThat(c.get("message").get("reasoning_content").asString()).startsWith("Short thought.");
    }

    /** Where the prompt leaves it to the model, an answer that begins with the tag thinks, and calls bind only after it. */
    @Test
    void anAnswerThatBeginsWithTheTagThinksFirst() {
        ScriptedAnswers.answer(holder, "\n<think>Call it? <tool_call> maybe.</think>\n\n<tool_call>{\"name\": \"get_weather\", "
                + "\"arguments\": {\"city\": \"Oslo\"}}</tool_call>");
        JsonNode c = chat(", \"tools\": " + TOOLS + ", \"parallel_tool_calls\": false, \"chat_template_kwargs\": {\"open_thinking\": false}");
        assertThat(c.get("message").get("reasoning_content").asString()).isEqualTo("Call it? <tool_call> maybe.");
        assertThat(c.get("message").get("tool_calls")).as("%s", c).hasSize(1);
        assertThat(c.get("message").get("tool_calls").get(0).get("function").get("arguments").asString()).isEqualTo("{\"city\": \"Oslo\"}");
        assertThat(c.get("finish_reason").asString()).isEqualTo("tool_calls");
    }

    @Test
    void toolCallsAreReadFromTheAnswerOnlyAndBoundThere() {
        // An opener inside the thinking is only thinking: no call, no constraint, no end.
        ScriptedAnswers.answer(holder, "Should I write <tool_call> here? No.</think>\n<tool_call>{\"name\": \"get_weather\", "
                + "\"arguments\": {\"city\": \"Paris\", \"country\": \"FR\"}}</tool_call>");
        JsonNode c = chat(", \"tools\": " + TOOLS + ", \"parallel_tool_calls\": false");
        assertThat(c.get("message").get("reasoning_content").asString()).isEqualTo("Should I write <tool_call> here? No.");
        JsonNode calls = c.get("message").get("tool_calls");
        assertThat(calls).as("%s", c).hasSize(1);
        assertThat(calls.get(0).get("function").get("name").asString()).isEqualTo("get_weather");
        // The script's extra member is not in the schema: the call stays inside it.
        assertThat(ApiTestSupport.JSON.readTree(calls.get(0).get("function").get("arguments").asString()).propertyNames())
                .containsExactly("city");
        assertThat(c.get("finish_reason").asString()).isEqualTo("tool_calls");
        List<String> streamed = stream(", \"tools\": " + TOOLS + ", \"parallel_tool_calls\": false");
        assertThat(streamed.get(0)).isEqualTo("Should I write <tool_call> here? No.");
        assertThat(streamed.get(1)).isEmpty();
        List<String> none = new ArrayList<>(stream(", \"tools\": " + TOOLS + ", \"tool_choice\": \"none\""));
        assertThat(none.get(1)).as("unbound, the answer is the script's text").contains("\"country\"");
    }
}
