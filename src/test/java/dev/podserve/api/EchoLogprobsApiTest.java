package dev.podserve.api;

import static dev.podserve.api.ApiTestSupport.assertEnvelope;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.HttpStatus;

import tools.jackson.databind.JsonNode;

/**
 * {@code echo} with {@code logprobs} on {@code /v1/completions}: every prompt token comes back with
 * its log-probability given the tokens before it (the way evaluation harnesses score a text), and
 * {@code max_tokens} 0 scores a prompt without generating. The prompt's scores are checked against
 * the sampling path: the alternatives at prompt position k must be those of the first token
 * generated after the prompt's first k tokens.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class EchoLogprobsApiTest extends LiveServerApiTest {

    private static final String PROMPT = "Scoring a prompt, token by token.";
    /** 0 on the CPU backend in practice (batch invariant); room for a GPU's bf16 rounding in cuda mode. */
    private static final double TOLERANCE = 0.02;

    private JsonNode complete(String body) {
        return ApiTestSupport.post(client, "/v1/completions", body, HttpStatus.OK);
    }

    private int[] promptIds() {
        JsonNode tokens = ApiTestSupport.post(client, "/tokenize", "{\"prompt\":\"" + PROMPT + "\"}", HttpStatus.OK).get("tokens");
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) ids[i] = tokens.get(i).asInt();
        return ids;
    }

    @Test
    void echoWithLogprobsScoresEveryPromptTokenAsTheSamplerWould() {
        int[] ids = promptIds();
        int p = ids.length;
        JsonNode r = complete("{\"prompt\":\"" + PROMPT + "\",\"echo\":true,\"logprobs\":3,\"max_tokens\":4,\"temperature\":0,"
                + "\"ignore_eos\":true}");
        JsonNode choice = r.get("choices").get(0);
        JsonNode lp = choice.get("logprobs");
        assertThat(r.get("usage").get("prompt_tokens").asInt()).isEqualTo(p);
        assertThat(choice.get("text").asString()).startsWith(PROMPT);
        assertThat(lp.get("tokens")).hasSize(p + 4);
        assertThat(lp.get("token_logprobs").get(0).isNull()).isTrue();
        assertThat(lp.get("top_logprobs").get(0).isNull()).isTrue();
        assertThat(lp.get("text_offset").get(0).asInt()).isZero();
        // The generated tokens' offsets count from the end of the echoed prompt.
        assertThat(lp.get("text_offset").get(p).asInt()).isEqualTo(PROMPT.length());
        for (int i = 1; i < p + 4; i++) {
            assertThat(lp.get("token_logprobs").get(i).asDouble()).isLessThanOrEqualTo(0.0);
            assertThat(lp.get("top_logprobs").get(i).size()).isBetween(1, 4);
            // The token's own entry is there too, as OpenAI's legacy completions send it.
            assertThat(lp.get("top_logprobs").get(i).has(lp.get("tokens").get(i).asString())).isTrue();
            assertThat(lp.get("text_offset").get(i).asInt()).isGreaterThanOrEqualTo(lp.get("text_offset").get(i - 1).asInt());
        }
        // The generated part is the one a request without echo gets.
        JsonNode plain = complete("{\"prompt\":\"" + PROMPT + "\",\"logprobs\":3,\"max_tokens\":4,\"temperature\":0,\"ignore_eos\":true}")
                .get("choices").get(0);
        assertThat(choice.get("text").asString()).isEqualTo(PROMPT + plain.get("text").asString());
        for (int i = 0; i < 4; i++) {
            assertThat(lp.get("token_logprobs").get(p + i).asDouble())
                    .isCloseTo(plain.get("logprobs").get("token_logprobs").get(i).asDouble(), within(TOLERANCE));
        }
        // Prompt position k, scored in the prompt, against the first token generated after ids[0, k).
        for (int k : new int[] {1, 2, p / 2, p - 1}) {
            JsonNode first = complete("{\"prompt\":" + prefix(ids, k) + ",\"logprobs\":3,\"max_tokens\":1,\"temperature\":0}")
                    .get("choices").get(0).get("logprobs");
            Map<String, Double> atK = map(lp.get("top_logprobs").get(k));
            Map<String, Double> firstAfter = map(first.get("top_logprobs").get(0));
            // The prompt token's own entry joins the alternatives; the generated token's is among them (greedy).
            String own = lp.get("tokens").get(k).asString();
            if (!firstAfter.containsKey(own) && atK.size() > firstAfter.size()) atK.remove(own);
            assertSameAlternatives(atK, firstAfter, "prompt position " + k);
        }
    }

    @Test
    void maxTokensZeroWithEchoReturnsTheScoredPromptAlone() {
        int p = promptIds().length;
        JsonNode r = complete("{\"prompt\":\"" + PROMPT + "\",\"echo\":true,\"logprobs\":1,\"max_tokens\":0}");
        JsonNode choice = r.get("choices").get(0);
        assertThat(choice.get("text").asString()).isEqualTo(PROMPT);
        assertThat(choice.get("finish_reason").asString()).isEqualTo("length");
        assertThat(choice.get("logprobs").get("tokens")).hasSize(p);
        assertThat(r.get("usage").get("completion_tokens").asInt()).isZero();
        assertThat(r.get("usage").get("prompt_tokens").asInt()).isEqualTo(p);
        // Echo alone, no logprobs: the prompt text back.
        assertThat(complete("{\"prompt\":\"" + PROMPT + "\",\"echo\":true,\"max_tokens\":0}").get("choices").get(0).get("text").asString())
                .isEqualTo(PROMPT);
    }

    @Test
    void maxTokensZeroWithoutEchoOrBelowZeroIsA400() {
        assertEnvelope(ApiTestSupport.post(client, "/v1/completions", "{\"prompt\":\"x\",\"max_tokens\":0}", HttpStatus.BAD_REQUEST),
                400, "BadRequestError", "max_tokens");
        assertEnvelope(ApiTestSupport.post(client, "/v1/completions", "{\"prompt\":\"x\",\"echo\":true,\"max_tokens\":-1}",
                HttpStatus.BAD_REQUEST), 400, "BadRequestError", "max_tokens");
        assertEnvelope(ApiTestSupport.post(client, "/v1/completions", "{\"prompt\":\"x\",\"echo\":true,\"logprobs\":21}",
                HttpStatus.BAD_REQUEST), 400, "BadRequestError", "logprobs");
    }

    /** The way lm-evaluation-harness scores a continuation: token ids, echo, logprobs 1, max_tokens 1. */
    @Test
    void harnessStyleScoringOfTokenIds() {
        int[] ids = promptIds();
        JsonNode lp = complete("{\"prompt\":" + prefix(ids, ids.length) + ",\"echo\":true,\"logprobs\":1,\"max_tokens\":1,"
                + "\"temperature\":0}").get("choices").get(0).get("logprobs");
        assertThat(lp.get("token_logprobs")).hasSize(ids.length + 1);
        // Greedy where the prompt token is its position's best alternative: its logprob is the top one.
        for (int i = 1; i < ids.length; i++) {
            double own = lp.get("token_logprobs").get(i).asDouble();
            double best = map(lp.get("top_logprobs").get(i)).values().stream().mapToDouble(Double::doubleValue).max().orElseThrow();
            assertThat(own).isLessThanOrEqualTo(best);
        }
    }

    @Test
    void streamedEchoCarriesThePromptsLogprobsThenTheGeneratedOnes() {
        int p = promptIds().length;
        String sse = ApiTestSupport.postRaw(client, "/v1/completions", "{\"prompt\":\"" + PROMPT + "\",\"echo\":true,\"logprobs\":2,"
                + "\"max_tokens\":5,\"temperature\":0,\"ignore_eos\":true,\"stream\":true,\"n\":2}", HttpStatus.OK);
        JsonNode whole = complete("{\"prompt\":\"" + PROMPT + "\",\"echo\":true,\"logprobs\":2,\"max_tokens\":5,\"temperature\":0,"
                + "\"ignore_eos\":true,\"n\":2}");
        for (int c = 0; c < 2; c++) {
            StringBuilder text = new StringBuilder();
            List<JsonNode> tokenLogprobs = new ArrayList<>();
            boolean first = true;
            for (String line : sse.split("\n")) {
                if (!line.startsWith("data: {")) continue;
                JsonNode chunk = ApiTestSupport.JSON.readTree(line.substring(6));
                for (JsonNode ch : chunk.get("choices")) {
                    if (ch.get("index").asInt() != c) continue;
                    if (first) {
                        assertThat(ch.get("text").asString()).isEqualTo(PROMPT);
                        assertThat(ch.get("logprobs").get("tokens")).hasSize(p);
                        assertThat(ch.get("logprobs").get("token_logprobs").get(0).isNull()).isTrue();
                        first = false;
                    }
                    text.append(ch.get("text").asString());
                    if (!ch.get("logprobs").isNull()) ch.get("logprobs").get("token_logprobs").forEach(tokenLogprobs::add);
                }
            }
            JsonNode want = whole.get("choices").get(c);
            assertThat(text.toString()).isEqualTo(want.get("text").asString());
            JsonNode wantLogprobs = want.get("logprobs").get("token_logprobs");
            assertThat(tokenLogprobs).hasSize(p + 5).hasSize(wantLogprobs.size());
            assertThat(tokenLogprobs.get(0).isNull()).isTrue();
            for (int i = 1; i < p + 5; i++) {
                assertThat(tokenLogprobs.get(i).asDouble()).isCloseTo(wantLogprobs.get(i).asDouble(), within(TOLERANCE));
            }
        }
    }

    /** vLLM's prompt_logprobs: by token id, the prompt token with its rank first, then the likeliest. */
    @Test
    void promptLogprobsInVllmsShapeAgreeWithTheEchoedOnes() {
        int[] ids = promptIds();
        int p = ids.length;
        JsonNode choice = complete("{\"prompt\":\"" + PROMPT + "\",\"echo\":true,\"logprobs\":1,\"prompt_logprobs\":3,"
                + "\"max_tokens\":1,\"temperature\":0}").get("choices").get(0);
        JsonNode vllm = choice.get("prompt_logprobs");
        JsonNode legacy = choice.get("logprobs");
        assertThat(vllm).hasSize(p);
        assertThat(vllm.get(0).isNull()).isTrue();
        // The echo lists only logprobs' count of alternatives though the scoring kept three.
        for (int i = 1; i < p; i++) {
            JsonNode at = vllm.get(i);
            JsonNode own = at.get(Integer.toString(ids[i]));
            assertThat(own).as("position %d names its prompt token %d in %s", i, ids[i], at).isNotNull();
            assertThat(own.get("logprob").asDouble()).isEqualTo(legacy.get("token_logprobs").get(i).asDouble());
            assertThat(own.get("rank").asInt()).isPositive();
            assertThat(at.size()).isBetween(3, 4);
            List<Integer> ranks = new ArrayList<>();
            at.properties().forEach(e -> ranks.add(e.getValue().get("rank").asInt()));
            assertThat(ranks.subList(1, ranks.size())).isSorted();
            if (own.get("rank").asInt() == 1) {
                double best = legacy.get("top_logprobs").get(i).properties().iterator().next().getValue().asDouble();
                assertThat(own.get("logprob").asDouble()).isEqualTo(best);
            }
            // One alternative, and the prompt token itself where it is not that one.
            assertThat(legacy.get("top_logprobs").get(i).size()).isBetween(1, 2);
            assertThat(legacy.get("top_logprobs").get(i).has(legacy.get("tokens").get(i).asString())).isTrue();
        }
        // Not asked, not there.
        assertThat(complete("{\"prompt\":\"x\",\"max_tokens\":1}").get("choices").get(0).has("prompt_logprobs")).isFalse();
    }

    @Test
    void chatReturnsPromptLogprobsOnceForItsPrompt() {
        JsonNode r = ApiTestSupport.post(client, "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"Score me.\"}],"
                + "\"prompt_logprobs\":0,\"max_tokens\":2,\"n\":2,\"temperature\":0}", HttpStatus.OK);
        JsonNode scored = r.get("prompt_logprobs");
        assertThat(scored).hasSize(r.get("usage").get("prompt_tokens").asInt());
        assertThat(scored.get(0).isNull()).isTrue();
        for (int i = 1; i < scored.size(); i++) {
            assertThat(scored.get(i).size()).isEqualTo(1);
            assertThat(scored.get(i).properties().iterator().next().getValue().get("logprob").asDouble()).isLessThanOrEqualTo(0.0);
        }
        assertThat(r.get("choices").get(0).has("prompt_logprobs")).isFalse();
        JsonNode plain = ApiTestSupport.post(client, "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                + "\"max_tokens\":1}", HttpStatus.OK);
        assertThat(plain.has("prompt_logprobs")).isFalse();
    }

    @Test
    void promptLogprobsAreNotStreamedAndHaveARange() {
        assertEnvelope(ApiTestSupport.post(client, "/v1/completions", "{\"prompt\":\"x\",\"prompt_logprobs\":1,\"stream\":true}",
                HttpStatus.BAD_REQUEST), 400, "BadRequestError", "prompt_logprobs");
        assertEnvelope(ApiTestSupport.post(client, "/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],"
                + "\"prompt_logprobs\":1,\"stream\":true}", HttpStatus.BAD_REQUEST), 400, "BadRequestError", "prompt_logprobs");
        assertEnvelope(ApiTestSupport.post(client, "/v1/completions", "{\"prompt\":\"x\",\"prompt_logprobs\":21}",
                HttpStatus.BAD_REQUEST), 400, "BadRequestError", "prompt_logprobs");
        assertEnvelope(ApiTestSupport.post(client, "/v1/completions", "{\"prompt\":\"x\",\"prompt_logprobs\":-1}",
                HttpStatus.BAD_REQUEST), 400, "BadRequestError", "prompt_logprobs");
    }

    /**
     * The same alternatives, up to rounding: the CPU backend gives both paths bit for bit, a GPU's
     * chunked and unchunked runs differ in bf16 rounding, which may also swap near-equal entries
     * at the list's end.
     */
    private static void assertSameAlternatives(Map<String, Double> got, Map<String, Double> want, String where) {
        double cut = want.values().stream().mapToDouble(Double::doubleValue).min().orElseThrow();
        for (Map.Entry<String, Double> e : got.entrySet()) {
            Double w = want.get(e.getKey());
            if (w != null) assertThat(e.getValue()).as("%s, %s", where, e.getKey()).isCloseTo(w, within(TOLERANCE));
            else assertThat(e.getValue()).as("%s, %s missing from %s", where, e.getKey(), want).isCloseTo(cut, within(TOLERANCE));
        }
        assertThat(got).hasSameSizeAs(want);
    }

    private static String prefix(int[] ids, int k) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < k; i++) b.append(i == 0 ? "" : ",").append(ids[i]);
        return b.append(']').toString();
    }

    private static Map<String, Double> map(JsonNode top) {
        Map<String, Double> out = new TreeMap<>();
        top.properties().forEach(e -> out.put(e.getKey(), e.getValue().asDouble()));
        return out;
    }
}
