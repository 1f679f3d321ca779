package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.HttpStatus;

import tools.jackson.databind.JsonNode;

/**
 * Structured outputs over HTTP with the embedded model, whose random weights would otherwise
 * write bytes at random: every answer that ends must be the JSON (or the choice) asked for, in
 * chat and text completions, streamed or not, for every one of n choices; what cannot be enforced
 * is a 400 naming the field.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class StructuredOutputApiTest extends LiveServerApiTest {

    private static final String PERSON = """
            {"type": "object", "properties": {"name": {"type": "string", "maxLength": 8}, "age": {"type": "integer"},
             "ok": {"type": "boolean"}, "tags": {"type": "array", "items": {"enum": ["a", "b"]}, "maxItems": 3},
             "note": {"anyOf": [{"type": "string", "maxLength": 4}, {"type": "null"}]}},
             "required": ["name", "age", "ok", "tags"], "additionalProperties": false}""";

    private JsonNode post(String path, String body) {
        return ApiTestSupport.post(client, path, body, HttpStatus.OK);
    }

    /** The answer parsed, checked against {@link #PERSON} by hand. */
    private static void assertPerson(String content) {
        JsonNode p = ApiTestSupport.JSON.readTree(content);
        assertThat(p.isObject()).as(content).isTrue();
        assertThat(Set.copyOf(p.propertyNames())).as(content).containsAll(List.of("name", "age", "ok", "tags"));
        assertThat(Set.of("name", "age", "ok", "tags", "note")).as(content).containsAll(p.propertyNames());
        assertThat(p.get("name").isString() && p.get("name").stringValue().codePointCount(0, p.get("name").stringValue().length()) <= 8)
                .as(content).isTrue();
        assertThat(p.get("age").isIntegralNumber()).as(content).isTrue();
        assertThat(p.get("ok").isBoolean()).as(content).isTrue();
        assertThat(p.get("tags").size()).as(content).isLessThanOrEqualTo(3);
        for (JsonNode t : p.get("tags")) assertThat(t.stringValue()).as(content).isIn("a", "b");
        if (p.has("note")) assertThat(p.get("note").isNull() || p.get("note").stringValue().length() <= 4).as(content).isTrue();
    }

    @Test
    void chatAnswersFollowTheSchemaForEveryChoice() {
        JsonNode r = post("/v1/chat/completions", """
                {"messages": [{"role": "user", "content": "Describe a person."}], "n": 4, "temperature": 1.0, "seed": 7,
                 "max_tokens": 1500, "response_format": {"type": "json_schema",
                 "json_schema": {"name": "person", "strict": true, "schema": %s}}}""".formatted(PERSON));
        int stopped = 0;
        for (JsonNode c : r.get("choices")) {
            String content = c.get("message").get("content").asString();
            if (!c.get("finish_reason").asString().equals("stop")) continue;
            assertPerson(content);
            // The engine ends a request as soon as the value closes: nothing after the brace.
            assertThat(content.strip()).endsWith("}");
            assertThat(content).doesNotEndWith(" ");
            stopped++;
        }
        assertThat(stopped).as("answers that ended, of %s", r).isGreaterThanOrEqualTo(3);
        String metrics = client.get().uri("/metrics").exchange().expectStatus().isOk().expectBody(String.class)
                .returnResult().getResponseBody();
        assertThat(metrics).containsPattern("(?m)^podserve:token_masks_total\\{[^}]*} [1-9]");
        assertThat(metrics).containsPattern("(?m)^podserve:token_mask_seconds_count\\{[^}]*} [1-9]");
        assertThat(metrics).containsPattern("(?m)^podserve:token_mask_wait_seconds_count\\{[^}]*} [1-9]");
    }

    @Test
    void streamedTextCompletionsGiveOneJsonObject() {
        String sse = ApiTestSupport.postRaw(client, "/v1/completions", """
                {"prompt": "JSON:", "max_tokens": 800, "temperature": 0.9, "seed": 3, "stream": true,
                 "response_format": {"type": "json_object"}}""", HttpStatus.OK);
        StringBuilder text = new StringBuilder();
        String finish = null;
        for (String line : sse.split("\n")) {
            if (!line.startsWith("data: {")) continue;
            JsonNode choice = ApiTestSupport.JSON.readTree(line.substring(6)).get("choices").get(0);
            text.append(choice.get("text").asString());
            if (!choice.get("finish_reason").isNull()) finish = choice.get("finish_reason").asString();
        }
        assertThat(finish).isEqualTo("stop");
        JsonNode value = ApiTestSupport.JSON.readTree(text.toString());
        assertThat(value.isObject()).as(text.toString()).isTrue();
    }

    @Test
    void vllmStructuredOutputsChoiceAndJson() {
        Set<String> choices = Set.of("positive", "negative", "neutral \u00e9t\u00e9");
        List<String> answers = new ArrayList<>();
        for (int seed = 0; seed < 6; seed++) {
            JsonNode r = post("/v1/chat/completions", """
                    {"messages": [{"role": "user", "content": "Sentiment?"}], "temperature": 1.0, "seed": %d, "max_tokens": 50,
                     "structured_outputs": {"choice": ["positive", "negative", "neutral \u00e9t\u00e9"]}}""".formatted(seed));
            JsonNode c = r.get("choices").get(0);
            assertThat(c.get("finish_reason").asString()).isEqualTo("stop");
            answers.add(c.get("message").get("content").asString());
        }
        assertThat(choices).containsAll(answers);

        JsonNode r = post("/v1/completions", """
                {"prompt": "n=", "max_tokens": 100, "temperature": 1.0, "seed": 11, "n": 3,
                 "structured_outputs": {"json": "{\\"type\\": \\"array\\", \\"items\\": {\\"type\\": \\"integer\\"}, \\"minItems\\": 2, \\"maxItems\\": 2}"}}""");
        for (JsonNode c : r.get("choices")) {
            if (!c.get("finish_reason").asString().equals("stop")) continue;
            JsonNode a = ApiTestSupport.JSON.readTree(c.get("text").asString());
            assertThat(a.size()).isEqualTo(2);
            assertThat(a.get(0).isIntegralNumber() && a.get(1).isIntegralNumber()).as(a.toString()).isTrue();
        }
    }

    /** vLLM's older top-level guided_json and guided_choice, as clients written for it still send them. */
    @Test
    void vllmsOlderGuidedFieldsAreReadTheSameWay() {
        JsonNode r = post("/v1/completions", """
                {"prompt": "Pick:", "max_tokens": 20, "temperature": 1.0, "seed": 4, "guided_choice": ["left", "right"]}""");
        assertThat(r.get("choices").get(0).get("text").asString()).isIn("left", "right");
        JsonNode j = post("/v1/chat/completions", """
                {"messages": [{"role": "user", "content": "x"}], "max_tokens": 300, "temperature": 1.0, "seed": 6,
                 "guided_json": {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"]}}""");
        JsonNode c = j.get("choices").get(0);
        if (c.get("finish_reason").asString().equals("stop")) {
            assertThat(ApiTestSupport.JSON.readTree(c.get("message").get("content").asString()).get("ok").isBoolean()).isTrue();
        }
        JsonNode e = ApiTestSupport.post(client, "/v1/chat/completions", """
                {"messages": [{"role": "user", "content": "x"}], "guided_regex": "a+"}""", HttpStatus.BAD_REQUEST);
        ApiTestSupport.assertEnvelope(e, 400, "BadRequestError", "structured_outputs");
        assertThat(e.get("error").get("message").asString()).contains("regex");
    }

    @Test
    void logprobsDescribeTheConstrainedDistribution() {
        JsonNode r = post("/v1/chat/completions", """
                {"messages": [{"role": "user", "content": "Pick."}], "max_tokens": 20, "logprobs": true, "top_logprobs": 5,
                 "structured_outputs": {"choice": ["yes", "no"]}}""");
        JsonNode content = r.get("choices").get(0).get("logprobs").get("content");
        String first = content.get(0).get("token").asString();
        assertThat(first).isIn("y", "n");
        // Only "y" and "n" can begin the answer: the rest of the list is the floor, not a real alternative.
        JsonNode top = content.get(0).get("top_logprobs");
        double mass = 0;
        for (JsonNode t : top) {
            if (t.get("logprob").asDouble() > -9999) {
                assertThat(t.get("token").asString()).isIn("y", "n");
                mass += Math.exp(t.get("logprob").asDouble());
            }
        }
        assertThat(mass).isCloseTo(1.0, org.assertj.core.data.Offset.offset(1e-4));
    }

    @Test
    void whatCannotBeEnforcedIsA400NamingTheField() {
        String chat = "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], %s}";
        for (String[] bad : new String[][] {
                {"\"response_format\": {\"type\": \"xml\"}", "response_format", "json_object"},
                {"\"response_format\": {\"type\": \"json_schema\"}", "response_format", "name and a schema"},
                {"\"response_format\": {\"type\": \"json_schema\", \"json_schema\": {\"name\": \"a b\", \"schema\": {}}}", "response_format", "64 letters"},
                {"\"response_format\": {\"type\": \"json_schema\", \"json_schema\": {\"name\": \"p\", \"schema\": {\"type\": \"string\", \"pattern\": \"^a\"}}}",
                        "response_format", "\\\"pattern\\\""},
                {"\"response_format\": {\"type\": \"json_schema\", \"json_schema\": {\"name\": \"p\", \"schema\": {\"$ref\": \"#/$defs/x\"}}}",
                        "response_format", "points at nothing"},
                {"\"response_format\": {\"type\": \"json_object\"}, \"ignore_eos\": true", "ignore_eos", "ignore_eos"},
                {"\"structured_outputs\": {\"regex\": \"a+\"}", "structured_outputs", "regex"},
                {"\"structured_outputs\": {\"choice\": []}", "structured_outputs", "choice"},
                {"\"structured_outputs\": {\"json\": \"{nope\"}", "structured_outputs", "not valid JSON"},
                {"\"structured_outputs\": {\"choice\": [\"a\"]}, \"response_format\": {\"type\": \"json_object\"}", "structured_outputs", "not both"},
        }) {
            JsonNode e = ApiTestSupport.post(client, "/v1/chat/completions", chat.formatted(bad[0]), HttpStatus.BAD_REQUEST);
            ApiTestSupport.assertEnvelope(e, 400, "BadRequestError", bad[1]);
            assertThat(e.get("error").get("message").asString()).as(bad[0]).contains(bad[2].replace("\\\"", "\""));
        }
        // A long chain of references is a 400 too, not a dropped connection.
        StringBuilder chain = new StringBuilder("{\"$defs\": {");
        for (int i = 0; i < 3000; i++) chain.append(i == 0 ? "" : ",").append("\"d").append(i).append("\": {\"$ref\": \"#/$defs/d").append(i + 1).append("\"}");
        chain.append(", \"d3000\": {}}, \"$ref\": \"#/$defs/d0\"}");
        JsonNode deep = ApiTestSupport.post(client, "/v1/chat/completions", chat.formatted(
                "\"structured_outputs\": {\"json\": " + chain + "}"), HttpStatus.BAD_REQUEST);
        ApiTestSupport.assertEnvelope(deep, 400, "BadRequestError", "structured_outputs");
        assertThat(deep.get("error").get("message").asString()).contains("deeper than");
        // Plain text stays the default and the explicit "text" format means it.
        post("/v1/chat/completions", chat.formatted("\"max_tokens\": 3, \"response_format\": {\"type\": \"text\"}"));
    }
}
