package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.HttpStatus;

import tools.jackson.databind.JsonNode;

/**
 * Forced tool calls over HTTP with the embedded model, whose random weights would write anything:
 * a named function's arguments and {@code "required"}'s calls always come back as OpenAI's
 * {@code tool_calls}, valid JSON under each function's parameters, streamed or not; a
 * conversation with earlier calls and their answers renders; what cannot be served is a 400.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class ToolCallingApiTest extends LiveServerApiTest {

    private static final String TOOLS = """
            [{"type": "function", "function": {"name": "get_weather", "description": "Weather in a city",
              "parameters": {"type": "object", "properties": {"city": {"type": "string", "maxLength": 12},
                "unit": {"enum": ["c", "f"]}}, "required": ["city", "unit"], "additionalProperties": false}}},
             {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object",
              "properties": {"zone": {"type": "string", "maxLength": 6}}, "required": ["zone"], "additionalProperties": false}}},
             {"type": "function", "function": {"name": "ping"}}]""";

    private static final String USER = "{\"role\": \"user\", \"content\": \"What is the weather in Paris?\"}";

    private JsonNode chat(String fields) {
        return ApiTestSupport.post(client, "/v1/chat/completions",
                "{\"messages\": [" + USER + "], \"tools\": " + TOOLS + ", " + fields + "}", HttpStatus.OK);
    }

    /** The arguments of one call, checked against its function's parameters by hand. */
    private static void assertArguments(String function, String arguments) {
        JsonNode a = ApiTestSupport.JSON.readTree(arguments);
        assertThat(a.isObject()).as(arguments).isTrue();
        switch (function) {
            case "get_weather" -> {
                assertThat(Set.copyOf(a.propertyNames())).as(arguments).isEqualTo(Set.of("city", "unit"));
                assertThat(a.get("city").stringValue().codePointCount(0, a.get("city").stringValue().length())).isLessThanOrEqualTo(12);
                assertThat(a.get("unit").stringValue()).isIn("c", "f");
            }
            case "get_time" -> assertThat(Set.copyOf(a.propertyNames())).as(arguments).isEqualTo(Set.of("zone"));
            case "ping" -> assertThat(a.isEmpty()).as("no parameters: an empty object, " + arguments).isTrue();
            default -> throw new AssertionError("no function " + function);
        }
    }

    @Test
    void aNamedFunctionsArgumentsComeBackAsItsToolCall() {
        JsonNode r = chat("\"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"get_weather\"}}, "
                + "\"n\": 3, \"temperature\": 1.0, \"seed\": 5, \"max_tokens\": 400");
        Set<String> ids = new java.util.HashSet<>();
        for (JsonNode c : r.get("choices")) {
            JsonNode m = c.get("message");
            assertThat(m.get("content").isNull()).as("content of a tool-call turn, %s", m).isTrue();
            assertThat(m.get("tool_calls")).hasSize(1);
            JsonNode call = m.get("tool_calls").get(0);
            assertThat(call.get("type").asString()).isEqualTo("function");
            assertThat(call.get("id").asString()).startsWith("call_");
            ids.add(call.get("id").asString());
            assertThat(call.get("function").get("name").asString()).isEqualTo("get_weather");
            // A forced function ends as "stop", as OpenAI ends it.
            assertThat(c.get("finish_reason").asString()).isEqualTo("stop");
            assertArguments("get_weather", call.get("function").get("arguments").asString());
        }
        assertThat(ids).hasSize(3);
    }

    @Test
    void requiredGivesOneOrMoreCallsOfListedFunctions() {
        JsonNode r = chat("\"tool_choice\": \"required\", \"n\": 4, \"temperature\": 1.0, \"seed\": 9, \"max_tokens\": 1500");
        int ended = 0;
        for (JsonNode c : r.get("choices")) {
            if (!c.get("finish_reason").asString().equals("tool_calls")) continue;
            ended++;
            JsonNode calls = c.get("message").get("tool_calls");
            assertThat(calls.size()).isPositive();
            for (JsonNode call : calls) {
                String name = call.get("function").get("name").asString();
                assertArguments(name, call.get("function").get("arguments").asString());
            }
        }
        assertThat(ended).as("%s", r).isGreaterThanOrEqualTo(3);
    }

    private List<JsonNode> stream(String fields) {
        String sse = ApiTestSupport.postRaw(client, "/v1/chat/completions",
                "{\"messages\": [" + USER + "], \"tools\": " + TOOLS + ", \"stream\": true, " + fields + "}", HttpStatus.OK);
        List<JsonNode> chunks = new ArrayList<>();
        for (String line : sse.split("\n")) {
            if (line.startsWith("data: {")) chunks.add(ApiTestSupport.JSON.readTree(line.substring(6)));
        }
        assertThat(sse.strip()).endsWith("data: [DONE]");
        return chunks;
    }

    @Test
    void streamedCallsAddUpAsOpenAIsDeltasDo() {
        // Named: the first piece carries the id, type and name; the arguments arrive in pieces.
        StringBuilder arguments = new StringBuilder();
        String id = null;
        String finish = null;
        for (JsonNode chunk : stream("\"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"get_weather\"}}, \"seed\": 3, \"temperature\": 1.0")) {
            JsonNode choice = chunk.get("choices").get(0);
            // A tool-call turn carries no content, not even an empty one.
            assertThat(choice.get("delta").has("content")).as("%s", chunk).isFalse();
            JsonNode calls = choice.get("delta").get("tool_calls");
            if (calls != null) {
                JsonNode call = calls.get(0);
                assertThat(call.get("index").asInt()).isZero();
                if (id == null) {
                    id = call.get("id").asString();
                    assertThat(call.get("function").get("name").asString()).isEqualTo("get_weather");
                } else {
                    assertThat(call.has("id")).as("only the first piece names the call").isFalse();
                }
                arguments.append(call.get("function").get("arguments").asString());
            }
            if (!choice.get("finish_reason").isNull()) finish = choice.get("finish_reason").asString();
        }
        assertThat(id).startsWith("call_");
        assertThat(finish).isEqualTo("stop");
        assertArguments("get_weather", arguments.toString());

        // Required: each call's first piece carries its index, id and name, then its arguments stream.
        Map<Integer, String> names = new java.util.TreeMap<>();
        Map<Integer, StringBuilder> args = new java.util.TreeMap<>();
        finish = null;
        for (JsonNode chunk : stream("\"tool_choice\": \"required\", \"seed\": 4, \"temperature\": 1.0, \"max_tokens\": 1500")) {
            JsonNode choice = chunk.get("choices").get(0);
            JsonNode calls = choice.get("delta").get("tool_calls");
            if (calls != null) {
                for (JsonNode call : calls) {
                    int index = call.get("index").asInt();
                    if (call.has("id")) {
                        assertThat(index).isEqualTo(names.size());
                        names.put(index, call.get("function").get("name").asString());
                        args.put(index, new StringBuilder());
                    }
                    args.get(index).append(call.get("function").get("arguments").asString());
                }
            }
            if (!choice.get("finish_reason").isNull()) finish = choice.get("finish_reason").asString();
        }
        assertThat(finish).isEqualTo("tool_calls");
        assertThat(names.keySet()).startsWith(0);
        for (int i : names.keySet()) assertArguments(names.get(i), args.get(i).toString());
    }

    @Test
    void parallelToolCallsFalseAllowsOneCallAndParametersWithoutATypeAreAnObject() {
        JsonNode r = chat("\"tool_choice\": \"required\", \"parallel_tool_calls\": false, \"n\": 3, \"temperature\": 1.0, \"seed\": 2, \"max_tokens\": 1500");
        for (JsonNode c : r.get("choices")) {
            if (c.get("finish_reason").asString().equals("tool_calls")) assertThat(c.get("message").get("tool_calls")).hasSize(1);
        }
        JsonNode untyped = ApiTestSupport.post(client, "/v1/chat/completions", "{\"messages\": [" + USER + "], \"tools\": "
                + "[{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": {}}}], "
                + "\"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"f\"}}, \"seed\": 1, \"temperature\": 1.0, \"max_tokens\": 600}",
                HttpStatus.OK);
        JsonNode call = untyped.get("choices").get(0).get("message").get("tool_calls").get(0);
        if (untyped.get("choices").get(0).get("finish_reason").asString().equals("stop")) {
            assertThat(ApiTestSupport.JSON.readTree(call.get("function").get("arguments").asString()).isObject()).isTrue();
        }
    }

    /** /tokenize takes the tools too, so its count is the chat request's prompt_tokens. */
    @Test
    void tokenizeRendersTheToolsAsChatDoes() {
        JsonNode t = ApiTestSupport.post(client, "/tokenize", "{\"messages\": [" + USER + "], \"tools\": " + TOOLS + "}", HttpStatus.OK);
        JsonNode r = chat("\"tool_choice\": \"none\", \"max_tokens\": 2");
        assertThat(t.get("count").asInt()).isEqualTo(r.get("usage").get("prompt_tokens").asInt());
    }

    @Test
    void aConversationWithEarlierCallsAndTheirAnswersRenders() {
        JsonNode r = ApiTestSupport.post(client, "/v1/chat/completions", """
                {"messages": [%s,
                  {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function",
                    "function": {"name": "get_weather", "arguments": "{\\"city\\": \\"Paris\\", \\"unit\\": \\"c\\"}"}}]},
                  {"role": "tool", "tool_call_id": "call_1", "content": "21 degrees"}],
                 "tools": %s, "tool_choice": "none", "max_tokens": 5}""".formatted(USER, TOOLS), HttpStatus.OK);
        assertThat(r.get("choices").get(0).get("message").get("content").isString()).isTrue();
        // The template saw the tools, the call and its answer: the prompt is longer than the question alone.
        JsonNode bare = ApiTestSupport.post(client, "/v1/chat/completions",
                "{\"messages\": [" + USER + "], \"max_tokens\": 5}", HttpStatus.OK);
        assertThat(r.get("usage").get("prompt_tokens").asInt()).isGreaterThan(bare.get("usage").get("prompt_tokens").asInt() + 100);
    }

    @Test
    void whatCannotBeServedIsA400NamingTheField() {
        String[][] bad = {
                {"\"tool_choice\": \"auto\"", "tool_choice", "needs tools"},
                {"\"tool_choice\": \"required\"", "tool_choice", "needs tools"},
                {"\"tools\": " + TOOLS + ", \"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"nope\"}}", "tool_choice", "nope"},
                {"\"tools\": " + TOOLS + ", \"tool_choice\": \"sometimes\"", "tool_choice", "must be"},
                {"\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"a b\"}}], \"tool_choice\": \"required\"", "tools", "64 letters"},
                {"\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}, {\"type\": \"function\", \"function\": {\"name\": \"f\"}}], \"tool_choice\": \"required\"",
                        "tools", "Two tools"},
                {"\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": {\"type\": \"object\", \"properties\": {\"a\": {\"pattern\": \"a\"}}}}}], \"tool_choice\": \"required\"",
                        "tools", "\"pattern\""},
                {"\"tools\": " + TOOLS + ", \"tool_choice\": \"required\", \"response_format\": {\"type\": \"json_object\"}", "tool_choice", "response_format"},
                {"\"tools\": " + TOOLS + ", \"tool_choice\": \"required\", \"structured_outputs\": {\"json_object\": true}", "tool_choice", "structured_outputs"},
                {"\"tools\": " + TOOLS + ", \"tool_choice\": \"required\", \"stop\": [\"x\"]", "stop", "forced tool call"},
                {"\"tools\": " + TOOLS + ", \"tool_choice\": \"required\", \"stop_token_ids\": [5]", "stop_token_ids", "forced tool call"},
                {"\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": {\"type\": \"string\"}}}], \"tool_choice\": \"required\"",
                        "tools", "object schema"},
                // Invalid tools are refused whatever the choice.
                {"\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", \"parameters\": {\"minimum\": 1}}}], \"tool_choice\": \"none\"",
                        "tools", "\"minimum\""},
                {"\"tools\": " + TOOLS + ", \"tool_choice\": \"required\", \"parallel_tool_calls\": \"yes\"", "parallel_tool_calls", "boolean"},
                {"\"functions\": [{\"name\": \"f\"}]", "functions", "tools"},
        };
        for (String[] b : bad) {
            JsonNode e = ApiTestSupport.post(client, "/v1/chat/completions", "{\"messages\": [" + USER + "], " + b[0] + "}", HttpStatus.BAD_REQUEST);
            ApiTestSupport.assertEnvelope(e, 400, "BadRequestError", b[1]);
            assertThat(e.get("error").get("message").asString()).as(b[0]).contains(b[2]);
        }
        JsonNode e = ApiTestSupport.post(client, "/v1/chat/completions",
                "{\"messages\": [" + USER + ", {\"role\": \"tool\", \"content\": \"x\"}], \"max_tokens\": 2}", HttpStatus.BAD_REQUEST);
        ApiTestSupport.assertEnvelope(e, 400, "BadRequestError", "messages.1.tool_call_id");
    }
}
