package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.context.annotation.Import;
import org.springframework.http.HttpStatus;

import tools.jackson.databind.JsonNode;

/**
 * {@code tool_choice: "auto"} over HTTP, with the embedded model (whose template writes Hermes'
 * {@code <tool_call>} tags) steered to scripted answers ({@link ScriptedAnswers}): it writes what
 * the script says wherever the tools' schemas allow it, and the server must read back content and
 * calls, streamed or not, and keep a call it opens inside the schemas.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@Import(ScriptedAnswers.class)
class AutoToolCallApiTest extends LiveServerApiTest {

    private static final String TOOLS = """
            [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object",
              "properties": {"city": {"type": "string", "maxLength": 12}, "unit": {"enum": ["c", "f"]}},
              "required": ["city", "unit"], "additionalProperties": false}}},
             {"type": "function", "function": {"name": "ping"}}]""";
    private static final String USER = "{\"role\": \"user\", \"content\": \"What is the weather in Paris?\"}";
    private static final String CALL = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"c\"}}\n</tool_call>";

    private void answer(String text) {
        ScriptedAnswers.answer(holder, text);
    }

    private JsonNode chat(String fields) {
        return ApiTestSupport.post(client, "/v1/chat/completions", "{\"messages\": [" + USER + "], \"tools\": " + TOOLS
                + ", \"temperature\": 0, \"max_tokens\": 300" + fields + "}", HttpStatus.OK).get("choices").get(0);
    }

    /** The stream's content, calls ({@code name(arguments)} by index) and finish reason, checking each chunk's shape. */
    private record Streamed(String content, List<String> calls, String finish) {
    }

    private Streamed stream(String fields) {
        String sse = ApiTestSupport.postRaw(client, "/v1/chat/completions", "{\"messages\": [" + USER + "], \"tools\": " + TOOLS
                + ", \"temperature\": 0, \"max_tokens\": 300, \"stream\": true" + fields + "}", HttpStatus.OK);
        StringBuilder content = new StringBuilder();
        List<String> names = new ArrayList<>();
        List<StringBuilder> arguments = new ArrayList<>();
        String finish = null;
        for (String line : sse.split("\n")) {
            if (!line.startsWith("data: {")) continue;
            JsonNode choice = ApiTestSupport.JSON.readTree(line.substring(6)).get("choices").get(0);
            JsonNode delta = choice.get("delta");
            if (delta.hasNonNull("content")) content.append(delta.get("content").asString());
            if (delta.has("tool_calls")) {
                for (JsonNode c : delta.get("tool_calls")) {
                    int index = c.get("index").asInt();
                    if (c.has("id")) {
                        // A call's first piece: its id, type and name, numbered in order.
                        assertThat(index).as("calls are numbered in order").isEqualTo(names.size());
                        assertThat(c.get("id").asString()).startsWith("call_");
                        assertThat(c.get("type").asString()).isEqualTo("function");
                        names.add(c.get("function").get("name").asString());
                        arguments.add(new StringBuilder());
                    } else {
                        assertThat(index).as("arguments of the call begun last").isEqualTo(names.size() - 1);
                        assertThat(c.get("function").has("name")).isFalse();
                    }
                    arguments.get(index).append(c.get("function").get("arguments").asString());
                }
            }
            if (!choice.get("finish_reason").isNull()) finish = choice.get("finish_reason").asString();
        }
        assertThat(sse.strip()).endsWith("data: [DONE]");
        List<String> calls = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) calls.add(names.get(i) + "(" + arguments.get(i) + ")");
        return new Streamed(content.toString(), calls, finish);
    }

    private static List<String> calls(JsonNode choice) {
        List<String> out = new ArrayList<>();
        JsonNode calls = choice.get("message").get("tool_calls");
        if (calls == null) return out;
        for (JsonNode c : calls) {
            assertThat(c.get("id").asString()).startsWith("call_");
            out.add(c.get("function").get("name").asString() + "(" + c.get("function").get("arguments").asString() + ")");
        }
        return out;
    }

    @Test
    void textThenACallComeBackAsContentAndToolCallsStreamedOrNot() {
        answer("Let me look.\n" + CALL);
        JsonNode c = chat("");
        assertThat(c.get("message").get("content").asString()).isEqualTo("Let me look.\n");
        assertThat(calls(c)).containsExactly("get_weather({\"city\": \"Paris\", \"unit\": \"c\"})");
        assertThat(c.get("finish_reason").asString()).isEqualTo("tool_calls");

        Streamed s = stream(", \"tool_choice\": \"auto\"");
        assertThat(s.content()).isEqualTo("Let me look.\n");
        assertThat(s.calls()).containsExactly("get_weather({\"city\": \"Paris\", \"unit\": \"c\"})");
        assertThat(s.finish()).isEqualTo("tool_calls");
    }

    @Test
    void aCallTheModelOpensStaysInsideTheSchema() {
        String outside = "<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"kelvin\"}}\n</tool_call>";
        answer(outside);
        // Unbound (tool_choice none), the model writes the script as it is: the push works.
        assertThat(chat(", \"tool_choice\": \"none\"").get("message").get("content").asString()).isEqualTo(outside);
        List<String> calls = calls(chat(""));
        assertThat(calls).hasSize(1);
        String call = calls.get(0);
        assertThat(call).startsWith("get_weather(");
        JsonNode arguments = ApiTestSupport.JSON.readTree(call.substring("get_weather(".length(), call.length() - 1));
        assertThat(Set.copyOf(arguments.propertyNames())).isEqualTo(Set.of("city", "unit"));
        assertThat(arguments.get("unit").asString()).as(call).isIn("c", "f");

        // A function the tools do not list cannot be called either.
        answer("<tool_call>{\"name\": \"delete_everything\", \"arguments\": {}}</tool_call>");
        List<String> named = calls(chat(""));
        assertThat(named).hasSize(1);
        assertThat(named.get(0)).matches("(get_weather|ping)\\(.*\\)");
    }

    @Test
    void parallelToolCallsFalseEndsTheAnswerAfterItsOneCall() {
        answer("Two calls." + CALL + "\n<tool_call>{\"name\": \"ping\", \"arguments\": {}}</tool_call> Then text.");
        JsonNode both = chat("");
        assertThat(calls(both)).containsExactly("get_weather({\"city\": \"Paris\", \"unit\": \"c\"})", "ping({})");
        assertThat(both.get("message").get("content").asString()).isEqualTo("Two calls. Then text.");
        Streamed streamed = stream("");
        assertThat(streamed.calls()).isEqualTo(calls(both));
        assertThat(streamed.content()).isEqualTo("Two calls. Then text.");

        JsonNode one = chat(", \"parallel_tool_calls\": false");
        assertThat(calls(one)).containsExactly("get_weather({\"city\": \"Paris\", \"unit\": \"c\"})");
        assertThat(one.get("message").get("content").asString()).isEqualTo("Two calls.");
        assertThat(one.get("finish_reason").asString()).isEqualTo("tool_calls");
    }

    @Test
    void aPlainAnswerIsContentAndACallCutShortIsItsText() {
        answer("It is sunny in Paris.");
        JsonNode text = chat("");
        assertThat(text.get("message").get("content").asString()).isEqualTo("It is sunny in Paris.");
        assertThat(text.get("message").has("tool_calls")).isFalse();
        assertThat(text.get("finish_reason").asString()).isEqualTo("stop");

        answer("Checking." + CALL);
        JsonNode cut = chat(", \"max_tokens\": 30");
        assertThat(cut.get("finish_reason").asString()).isEqualTo("length");
        assertThat(cut.get("message").has("tool_calls")).isFalse();
        String content = cut.get("message").get("content").asString();
        assertThat(content).startsWith("Checking.<tool_call>");
        assertThat(("Checking." + CALL).startsWith(content)).as(content).isTrue();
        assertThat(stream(", \"max_tokens\": 30").content()).isEqualTo(content);
    }

    /**
     * A stop string inside a call's JSON cuts its arguments: the answer ends {@code stop}, not
     * {@code tool_calls}, so no client parses the cut arguments as a finished call. A stop string the
     * call does not contain leaves the finished call as it is.
     */
    @Test
    void aCallCutByAStopStringIsNotAFinishedCall() {
        answer("Checking." + CALL);
        JsonNode whole = chat(", \"stop\": [\"}\"]");
        assertThat(whole.get("finish_reason").asString()).isEqualTo("stop");
        assertThat(calls(whole)).containsExactly("get_weather({\"city\": \"Paris\", \"unit\": \"c\")");
        Streamed streamed = stream(", \"stop\": [\"}\"]");
        assertThat(streamed.finish()).isEqualTo("stop");
        assertThat(streamed.calls()).isEqualTo(calls(whole));

        JsonNode untouched = chat(", \"stop\": [\"Tokyo\"]");
        assertThat(untouched.get("finish_reason").asString()).isEqualTo("tool_calls");
        assertThat(calls(untouched)).containsExactly("get_weather({\"city\": \"Paris\", \"unit\": \"c\"})");
        assertThat(stream(", \"stop\": [\"Tokyo\"]").finish()).isEqualTo("tool_calls");
    }

    /** The official Java SDK reads the answer, whole and accumulated from its stream, into the same message. */
    @Test
    void theOpenAiSdkReadsContentAndCallsWholeAndStreamed() {
        answer("On it." + CALL);
        var parameters = com.openai.models.FunctionParameters.builder()
                .putAdditionalProperty("type", com.openai.core.JsonValue.from("object"))
                .putAdditionalProperty("properties", com.openai.core.JsonValue.from(java.util.Map.of(
                        "city", java.util.Map.of("type", "string", "maxLength", 12), "unit", java.util.Map.of("enum", List.of("c", "f")))))
                .putAdditionalProperty("required", com.openai.core.JsonValue.from(List.of("city", "unit"))).build();
        var params = com.openai.models.chat.completions.ChatCompletionCreateParams.builder().model("podserve-tiny")
                .addUserMessage("What is the weather in Paris?").maxTokens(300).temperature(0.0)
                .addFunctionTool(com.openai.models.FunctionDefinition.builder().name("get_weather").parameters(parameters).build())
                .build();
        var sdk = com.openai.client.okhttp.OpenAIOkHttpClient.builder().baseUrl("http://localhost:" + port + "/v1")
                .apiKey("sk-test").maxRetries(0).build();
        try {
            var whole = sdk.chat().completions().create(params).choices().get(0);
            var accumulator = com.openai.helpers.ChatCompletionAccumulator.create();
            try (var chunks = sdk.chat().completions().createStreaming(params)) {
                chunks.stream().forEach(accumulator::accumulate);
            }
            var streamed = accumulator.chatCompletion().choices().get(0);
            for (var choice : List.of(whole, streamed)) {
                assertThat(choice.message().content()).contains("On it.");
                var call = choice.message().toolCalls().orElseThrow().get(0).asFunction();
                assertThat(call.function().name()).isEqualTo("get_weather");
                assertThat(call.function().arguments()).isEqualTo("{\"city\": \"Paris\", \"unit\": \"c\"}");
                assertThat(choice.finishReason().asString()).isEqualTo("tool_calls");
            }
        } finally {
            sdk.close();
        }
    }

    /**
     * LangChain4j, as an agent framework sends tools (no tool_choice: "auto"), whole and streamed:
     * the tool execution request it hands the application, with arguments it can parse.
     */
    @Test
    void langChain4jGetsTheToolExecutionRequest() throws Exception {
        answer("Checking." + CALL);
        var weather = dev.langchain4j.agent.tool.ToolSpecification.builder().name("get_weather").description("Weather in a city")
                .parameters(dev.langchain4j.model.chat.request.json.JsonObjectSchema.builder().addStringProperty("city")
                        .addEnumProperty("unit", List.of("c", "f")).required("city", "unit").build())
                .build();
        var request = dev.langchain4j.model.chat.request.ChatRequest.builder()
                .messages(dev.langchain4j.data.message.UserMessage.from("What is the weather in Paris?")).toolSpecifications(weather).build();
        String base = "http://localhost:" + port + "/v1";
        var blocking = dev.langchain4j.model.openai.OpenAiChatModel.builder().baseUrl(base).apiKey("sk-test").modelName("podserve-tiny")
                .temperature(0.0).maxTokens(300).build();
        var whole = blocking.chat(request).aiMessage();

        var streaming = dev.langchain4j.model.openai.OpenAiStreamingChatModel.builder().baseUrl(base).apiKey("sk-test")
                .modelName("podserve-tiny").temperature(0.0).maxTokens(300).build();
        var done = new java.util.concurrent.CompletableFuture<dev.langchain4j.model.chat.response.ChatResponse>();
        streaming.chat(request, new dev.langchain4j.model.chat.response.StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String partial) {
            }

            @Override
            public void onCompleteResponse(dev.langchain4j.model.chat.response.ChatResponse response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        var streamed = done.get(60, java.util.concurrent.TimeUnit.SECONDS).aiMessage();
        for (var message : List.of(whole, streamed)) {
            assertThat(message.hasToolExecutionRequests()).as("%s", message).isTrue();
            var call = message.toolExecutionRequests().get(0);
            assertThat(call.name()).isEqualTo("get_weather");
            assertThat(call.id()).startsWith("call_");
            JsonNode arguments = ApiTestSupport.JSON.readTree(call.arguments());
            assertThat(arguments.get("city").asString()).isEqualTo("Paris");
            assertThat(arguments.get("unit").asString()).isEqualTo("c");
        }
    }

    @Test
    void autoWithAStructuredOutputIsA400() {
        answer("x");
        JsonNode e = ApiTestSupport.post(client, "/v1/chat/completions", "{\"messages\": [" + USER + "], \"tools\": " + TOOLS
                + ", \"response_format\": {\"type\": \"json_object\"}}", HttpStatus.BAD_REQUEST);
        ApiTestSupport.assertEnvelope(e, 400, "BadRequestError", "tool_choice");
        assertThat(e.get("error").get("message").asString()).contains("auto").contains("response_format");
    }
}
