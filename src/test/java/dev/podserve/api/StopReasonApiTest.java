package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.HttpStatus;

import tools.jackson.databind.JsonNode;

/**
 * vLLM's {@code stop_reason} beside {@code finish_reason}, whole and streamed, chat and text, for
 * two choices each: the stop string or the stop token id that ended a choice, null for every other
 * end. The embedded model is pushed to one token by {@code logit_bias}: "A" (65), or an end token.
 * Its tokenizer ends on {@code <|im_end|>} (258); its generation_config.json adds
 * {@code <|endoftext|>} (256), which vLLM stops on as a stop token id and so names.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class StopReasonApiTest extends LiveServerApiTest {

    private static final String FORCE_A = "\"logit_bias\":{\"65\":100}";

    static Stream<Arguments> ends() {
        List<Arguments> out = new ArrayList<>();
        for (String path : List.of("/v1/chat/completions", "/v1/completions")) {
            out.add(Arguments.of(path, "a stop string", FORCE_A + ",\"stop\":[\"AA\"]", "stop", "AA"));
            out.add(Arguments.of(path, "a stop string kept in the text",
                    FORCE_A + ",\"stop\":[\"AA\"],\"include_stop_str_in_output\":true", "stop", "AA"));
            out.add(Arguments.of(path, "a stop token id", FORCE_A + ",\"stop_token_ids\":[66,65]", "stop", 65));
            out.add(Arguments.of(path, "the tokenizer's EOS", "\"logit_bias\":{\"258\":100}", "stop", null));
            out.add(Arguments.of(path, "the tokenizer's EOS, listed in stop_token_ids too",
                    "\"logit_bias\":{\"258\":100},\"stop_token_ids\":[258]", "stop", null));
            out.add(Arguments.of(path, "an EOS id only generation_config.json names", "\"logit_bias\":{\"256\":100}", "stop", 256));
            out.add(Arguments.of(path, "the tokenizer's EOS with ignore_eos, as a stop token id",
                    "\"logit_bias\":{\"258\":100},\"ignore_eos\":true,\"stop_token_ids\":[258]", "stop", 258));
            out.add(Arguments.of(path, "max_tokens", FORCE_A, "length", null));
        }
        return out.stream();
    }

    private static String body(String path, String fields) {
        String input = path.contains("chat") ? "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]" : "\"prompt\":\"x\"";
        return "{" + input + ",\"n\":2,\"max_tokens\":4," + fields + "}";
    }

    @ParameterizedTest(name = "{0} ended by {1}")
    @MethodSource("ends")
    void eachChoiceNamesWhatEndedIt(String path, String cause, String fields, String finish, Object stopReason) {
        JsonNode choices = ApiTestSupport.post(client, path, body(path, fields), HttpStatus.OK).get("choices");
        assertThat(choices).hasSize(2);
        for (JsonNode choice : choices) {
            assertThat(choice.get("finish_reason").asString()).as("finish_reason of %s", choice).isEqualTo(finish);
            assertStopReason(choice, stopReason);
        }
    }

    @ParameterizedTest(name = "{0} streamed, ended by {1}")
    @MethodSource("ends")
    void theFinishingChunkOfEachChoiceNamesWhatEndedIt(String path, String cause, String fields, String finish, Object stopReason) {
        String sse = ApiTestSupport.postRaw(client, path, body(path, fields + ",\"stream\":true"), HttpStatus.OK);
        Map<Integer, Integer> finishes = new HashMap<>();
        for (JsonNode event : events(sse)) {
            for (JsonNode choice : event.get("choices")) {
                if (choice.get("finish_reason").isNull()) {
                    // Only the finishing chunk carries it; the others send null, as vLLM's text completions do.
                    assertStopReason(choice, null);
                } else {
                    assertThat(choice.get("finish_reason").asString()).isEqualTo(finish);
                    assertStopReason(choice, stopReason);
                    finishes.merge(choice.get("index").asInt(), 1, Integer::sum);
                }
            }
        }
        assertThat(finishes).as("one finishing chunk per choice").isEqualTo(Map.of(0, 1, 1, 1));
    }

    /** best_of's returned candidates keep their own stop reasons through the ranking. */
    @Test
    void bestOfCandidatesKeepTheirOwn() {
        String body = "{\"prompt\":\"x\",\"n\":2,\"best_of\":3,\"max_tokens\":4," + FORCE_A + ",\"stop_token_ids\":[65]}";
        JsonNode choices = ApiTestSupport.post(client, "/v1/completions", body, HttpStatus.OK).get("choices");
        assertThat(choices).hasSize(2);
        for (JsonNode choice : choices) assertStopReason(choice, 65);
    }

    private static void assertStopReason(JsonNode choice, Object expected) {
        assertThat(choice.has("stop_reason")).as("stop_reason in %s", choice).isTrue();
        JsonNode actual = choice.get("stop_reason");
        if (expected == null) {
            assertThat(actual.isNull()).as("stop_reason null in %s", choice).isTrue();
        } else if (expected instanceof Integer id) {
            // A token id goes out as a number, as vLLM sends it, not as a string.
            assertThat(actual.isInt()).as("stop_reason a number in %s", choice).isTrue();
            assertThat(actual.asInt()).isEqualTo(id);
        } else {
            assertThat(actual.isString()).as("stop_reason a string in %s", choice).isTrue();
            assertThat(actual.asString()).isEqualTo(expected);
        }
    }

    static List<JsonNode> events(String sse) {
        List<JsonNode> out = new ArrayList<>();
        for (String frame : sse.split("\n\n")) {
            if (frame.startsWith("data: ") && !frame.equals("data: [DONE]")) out.add(ApiTestSupport.JSON.readTree(frame.substring(6)));
        }
        return out;
    }
}
