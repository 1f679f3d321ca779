package dev.podserve.api;

import static dev.podserve.api.ApiTestSupport.JSON;
import static dev.podserve.api.ApiTestSupport.assertEnvelope;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.http.HttpStatus;


import tools.jackson.databind.JsonNode;

/** {@code /v1/chat/completions} and streamed {@code /v1/completions} over a real port: fields, errors and exact SSE bytes. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class ChatCompletionsApiTest extends LiveServerApiTest {

    /** Forces byte 'A' (token 65): the output is then known exactly. */
    private static final String FORCE_A = "\"logit_bias\":{\"65\":100}";

    private JsonNode chat(String body, HttpStatus expected) {
        return ApiTestSupport.post(client, "/v1/chat/completions", body, expected);
    }

    private String stream(String path, String body) {
        return ApiTestSupport.postRaw(client, path, body, HttpStatus.OK);
    }

    private static List<JsonNode> events(String sse) {
        List<JsonNode> out = new ArrayList<>();
        for (String frame : sse.split("\n\n")) {
            if (frame.startsWith("data: ") && !frame.equals("data: [DONE]")) out.add(JSON.readTree(frame.substring(6)));
        }
        return out;
    }

    @Test
    void nonStreamingChat() {
        JsonNode r = chat("{\"model\":\"podserve-tiny\",\"messages\":[{\"role\":\"system\",\"content\":\"Be brief.\"},"
                + "{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":3," + FORCE_A + "}", HttpStatus.OK);
        assertThat(r.get("id").asString()).startsWith("chatcmpl-");
        assertThat(r.get("object").asString()).isEqualTo("chat.completion");
        JsonNode choice = r.get("choices").get(0);
        assertThat(choice.get("index").asInt()).isZero();
        assertThat(choice.get("message").get("role").asString()).isEqualTo("assistant");
        assertThat(choice.get("message").get("content").asString()).isEqualTo("AAA");
        assertThat(choice.get("finish_reason").asString()).isEqualTo("length");
        assertThat(choice.get("logprobs").isNull()).isTrue();
        // ChatML: "<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n"
        int promptTokens = 1 + 7 + 9 + 1 + 1 + 1 + 5 + 2 + 1 + 1 + 1 + 10;
        assertThat(r.get("usage").get("prompt_tokens").asInt()).isEqualTo(promptTokens);
        assertThat(r.get("usage").get("completion_tokens").asInt()).isEqualTo(3);
    }

    /** OpenAI's current API names the system message {@code developer}; it renders as the template's system turn. */
    @Test
    void developerIsSystemsNewerName() {
        String as = "{\"messages\":[{\"role\":\"%s\",\"content\":\"Be brief.\"},{\"role\":\"user\",\"content\":\"Hi\"}]}";
        JsonNode developer = ApiTestSupport.post(client, "/tokenize", as.formatted("developer"), HttpStatus.OK);
        JsonNode system = ApiTestSupport.post(client, "/tokenize", as.formatted("system"), HttpStatus.OK);
        assertThat(developer.get("tokens")).isEqualTo(system.get("tokens"));
        JsonNode r = chat(as.formatted("developer").replace("]}", "],\"max_tokens\":2," + FORCE_A + "}"), HttpStatus.OK);
        assertThat(r.get("choices").get(0).get("message").get("content").asString()).isEqualTo("AA");
        assertThat(r.get("usage").get("prompt_tokens").asInt()).isEqualTo(system.get("count").asInt());
    }

    @Test
    void promptTokensMatchTokenize() {
        String messages = "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"part one\"},{\"type\":\"text\",\"text\":\"two\"}]}]";
        JsonNode tok = ApiTestSupport.post(client, "/tokenize", "{\"messages\":" + messages + "}", HttpStatus.OK);
        JsonNode r = chat("{\"messages\":" + messages + ",\"max_tokens\":1}", HttpStatus.OK);
        assertThat(r.get("usage").get("prompt_tokens").asInt()).isEqualTo(tok.get("count").asInt());
        assertThat(tok.get("max_model_len").asInt()).isEqualTo(4096);
        String text = ApiTestSupport.post(client, "/detokenize", "{\"tokens\":" + tok.get("tokens") + "}", HttpStatus.OK)
                .get("prompt").asString();
        assertThat(text).isEqualTo("<|im_start|>user\npart one\ntwo<|im_end|>\n<|im_start|>assistant\n");
        JsonNode plain = ApiTestSupport.post(client, "/tokenize", "{\"prompt\":\"héllo\",\"return_token_strs\":true}", HttpStatus.OK);
        assertThat(plain.get("count").asInt()).isEqualTo(6);
        assertThat(plain.get("token_strs")).hasSize(6);
    }

    /**
     * continue_final_message (vLLM, transformers): the prompt ends where the last message's text
     * does, its end of turn cut, so the model continues it; the text must be in the rendered prompt,
     * and a turn cannot be both continued and opened (add_generation_prompt is true unless sent false).
     */
    @Test
    void continueFinalMessageLeavesTheLastMessageOpen() {
        String messages = "[{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"assistant\",\"content\":\"The answer is \"}]";
        JsonNode tok = ApiTestSupport.post(client, "/tokenize",
                "{\"messages\":" + messages + ",\"add_generation_prompt\":false,\"continue_final_message\":true}", HttpStatus.OK);
        String text = ApiTestSupport.post(client, "/detokenize", "{\"tokens\":" + tok.get("tokens") + "}", HttpStatus.OK)
                .get("prompt").asString();
        assertThat(text).isEqualTo("<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\nThe answer is ");
        JsonNode r = chat("{\"messages\":" + messages + ",\"add_generation_prompt\":false,\"continue_final_message\":true,"
                + "\"max_tokens\":1}", HttpStatus.OK);
        assertThat(r.get("usage").get("prompt_tokens").asInt()).isEqualTo(tok.get("count").asInt());
        assertEnvelope(chat("{\"messages\":" + messages + ",\"continue_final_message\":true}", HttpStatus.BAD_REQUEST),
                400, "BadRequestError", "continue_final_message");
        // A leading blank: transformers cuts after the stripped text, trailing blanks or not.
        String blanks = messages.replace("The answer is ", " Paris ");
        JsonNode stripped = ApiTestSupport.post(client, "/tokenize",
                "{\"messages\":" + blanks + ",\"add_generation_prompt\":false,\"continue_final_message\":true}", HttpStatus.OK);
        assertThat(ApiTestSupport.post(client, "/detokenize", "{\"tokens\":" + stripped.get("tokens") + "}", HttpStatus.OK)
                .get("prompt").asString()).endsWith("<|im_start|>assistant\n Paris");
        String noText = "[{\"role\":\"user\",\"content\":\"Hi\"},{\"role\":\"assistant\",\"content\":\"  \"}]";
        assertEnvelope(ApiTestSupport.post(client, "/tokenize", "{\"messages\":" + noText
                        + ",\"add_generation_prompt\":false,\"continue_final_message\":true}", HttpStatus.BAD_REQUEST),
                400, "BadRequestError", "continue_final_message");
    }

    @Test
    void exactSseBytesForAStreamedChat() {
        String sse = stream("/v1/chat/completions",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":true,\"max_tokens\":2," + FORCE_A + "}");
        JsonNode first = events(sse).get(0);
        String id = first.get("id").asString();
        long created = first.get("created").asLong();
        String head = "{\"id\":\"" + id + "\",\"object\":\"chat.completion.chunk\",\"created\":" + created
                + ",\"model\":\"podserve-tiny\",\"choices\":[{\"index\":0,";
        // OpenAI's bytes, plus vLLM's stop_reason beside every finish_reason.
        String expected = "data: " + head + "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null,\"stop_reason\":null}]}\n\n"
                + "data: " + head + "\"delta\":{\"content\":\"A\"},\"logprobs\":null,\"finish_reason\":null,\"stop_reason\":null}]}\n\n"
                + "data: " + head + "\"delta\":{\"content\":\"A\"},\"logprobs\":null,\"finish_reason\":null,\"stop_reason\":null}]}\n\n"
                + "data: " + head + "\"delta\":{},\"logprobs\":null,\"finish_reason\":\"length\",\"stop_reason\":null}]}\n\n"
                + "data: [DONE]\n\n";
        assertThat(sse).isEqualTo(expected);
    }

    @Test
    void includeUsagePutsNullOnEveryChunkAndUsageLast() {
        String sse = stream("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"stream\":true,"
                + "\"stream_options\":{\"include_usage\":true},\"max_tokens\":2," + FORCE_A + "}");
        List<JsonNode> ev = events(sse);
        for (int i = 0; i < ev.size() - 1; i++) {
            assertThat(ev.get(i).has("usage")).isTrue();
            assertThat(ev.get(i).get("usage").isNull()).isTrue();
        }
        JsonNode last = ev.get(ev.size() - 1);
        assertThat(last.get("choices")).isEmpty();
        assertThat(last.get("usage").get("completion_tokens").asInt()).isEqualTo(2);
        assertThat(last.get("usage").get("total_tokens").asInt()).isEqualTo(last.get("usage").get("prompt_tokens").asInt() + 2);
        assertThat(sse).endsWith("data: [DONE]\n\n").doesNotContain("event:");
    }

    @Test
    void streamedTextEqualsNonStreamedText() {
        String req = "\"messages\":[{\"role\":\"user\",\"content\":\"tell me\"}],\"max_tokens\":40,\"temperature\":0,\"ignore_eos\":true";
        String whole = chat("{" + req + "}", HttpStatus.OK).get("choices").get(0).get("message").get("content").asString();
        StringBuilder streamed = new StringBuilder();
        String id = null;
        for (JsonNode e : events(stream("/v1/chat/completions", "{" + req + ",\"stream\":true}"))) {
            if (id == null) id = e.get("id").asString();
            assertThat(e.get("id").asString()).isEqualTo(id);
            JsonNode delta = e.get("choices").get(0).get("delta");
            if (delta.has("content")) streamed.append(delta.get("content").asString());
        }
        assertThat(streamed.toString()).isEqualTo(whole);
    }

    @Test
    void stopStringsNeverLeakIntoDeltas() {
        String req = "\"messages\":[{\"role\":\"user\",\"content\":\"stop\"}],\"max_tokens\":5,\"temperature\":0," + FORCE_A;
        // The forced output is all 'A', so the stop string "AAA" completes at the third token and nothing precedes it.
        JsonNode r = chat("{" + req + ",\"stop\":\"AAA\"}", HttpStatus.OK);
        assertThat(r.get("choices").get(0).get("message").get("content").asString()).isEqualTo("");
        assertThat(r.get("choices").get(0).get("finish_reason").asString()).isEqualTo("stop");
        String sse = stream("/v1/chat/completions", "{" + req + ",\"stop\":[\"AAA\"],\"stream\":true}");
        assertThat(sse).doesNotContain("\"content\":\"A");
        assertThat(sse).contains("\"finish_reason\":\"stop\"");
    }

    @Test
    void nChoicesAreIndependentAndSeededChoicesReproduce() {
        String req = "{\"messages\":[{\"role\":\"user\",\"content\":\"n\"}],\"n\":3,\"max_tokens\":12,\"temperature\":1,"
                + "\"seed\":7,\"ignore_eos\":true}";
        JsonNode a = chat(req, HttpStatus.OK);
        JsonNode b = chat(req, HttpStatus.OK);
        assertThat(a.get("choices")).hasSize(3);
        for (int i = 0; i < 3; i++) {
            assertThat(a.get("choices").get(i).get("index").asInt()).isEqualTo(i);
            assertThat(a.get("choices").get(i).get("message").get("content").asString())
                    .isEqualTo(b.get("choices").get(i).get("message").get("content").asString());
        }
        assertThat(a.get("choices").get(0).get("message").get("content").asString())
                .isNotEqualTo(a.get("choices").get(1).get("message").get("content").asString());
        assertThat(a.get("usage").get("completion_tokens").asInt()).isEqualTo(36);
        List<JsonNode> ev = events(stream("/v1/chat/completions", req.substring(0, req.length() - 1) + ",\"stream\":true}"));
        assertThat(ev.stream().filter(e -> !e.get("choices").get(0).get("finish_reason").isNull()).count()).isEqualTo(3);
    }

    @Test
    void chatLogprobs() {
        JsonNode lp = chat("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":2,\"logprobs\":true,\"top_logprobs\":3,"
                + FORCE_A + "}", HttpStatus.OK).get("choices").get(0).get("logprobs").get("content");
        assertThat(lp).hasSize(2);
        assertThat(lp.get(0).get("token").asString()).isEqualTo("A");
        assertThat(lp.get(0).get("bytes").get(0).asInt()).isEqualTo(65);
        assertThat(lp.get(0).get("logprob").asDouble()).isBetween(-1e-3, 0.0);
        assertThat(lp.get(0).get("top_logprobs")).hasSize(3);
        assertThat(lp.get(0).get("top_logprobs").get(0).get("token").asString()).isEqualTo("A");

        // Then 'é' forced a byte at a time (0xC3 0xA9): each token's bytes are its one byte, so a
        // client joins them into the character; the text of half a character alone is U+FFFD.
        JsonNode half = chat("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":1,\"logprobs\":true,"
                + "\"top_logprobs\":2,\"logit_bias\":{\"195\":100,\"169\":50}}", HttpStatus.OK)
                .get("choices").get(0).get("logprobs").get("content").get(0);
        assertThat(half.get("token").asString()).isEqualTo("\uFFFD");
        assertThat(half.get("bytes")).hasSize(1);
        assertThat(half.get("bytes").get(0).asInt()).isEqualTo(0xC3);
        assertThat(half.get("top_logprobs").get(1).get("bytes").get(0).asInt()).isEqualTo(0xA9);
    }

    @Test
    void textCompletionStreamsWithEchoAndSeveralPrompts() {
        String sse = stream("/v1/completions", "{\"prompt\":[\"ab\",\"cd\"],\"echo\":true,\"stream\":true,\"max_tokens\":2," + FORCE_A + "}");
        StringBuilder[] text = {new StringBuilder(), new StringBuilder()};
        int finished = 0;
        for (JsonNode e : events(sse)) {
            JsonNode c = e.get("choices").get(0);
            assertThat(e.get("object").asString()).isEqualTo("text_completion");
            text[c.get("index").asInt()].append(c.get("text").asString());
            if (!c.get("finish_reason").isNull()) finished++;
        }
        assertThat(text[0].toString()).isEqualTo("abAA");
        assertThat(text[1].toString()).isEqualTo("cdAA");
        assertThat(finished).isEqualTo(2);
        JsonNode whole = ApiTestSupport.post(client, "/v1/completions", "{\"prompt\":[[97,98],[99]],\"max_tokens\":1,\"n\":2," + FORCE_A + "}",
                HttpStatus.OK);
        assertThat(whole.get("choices")).hasSize(4);
        assertThat(whole.get("usage").get("prompt_tokens").asInt()).isEqualTo(3);
        assertThat(whole.get("usage").get("completion_tokens").asInt()).isEqualTo(4);
    }

    @Test
    void maxCompletionTokensWinsOverMaxTokens() {
        JsonNode r = chat("{\"messages\":[{\"role\":\"user\",\"content\":\"x\"}],\"max_tokens\":9,\"max_completion_tokens\":2,"
                + FORCE_A + "}", HttpStatus.OK);
        assertThat(r.get("usage").get("completion_tokens").asInt()).isEqualTo(2);
    }

    @Test
    void chatErrors() {
        String user = "\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]";
        assertEnvelope(chat("{\"messages\":[]}", HttpStatus.BAD_REQUEST), 400, "BadRequestError", "messages");
        assertEnvelope(chat("{}", HttpStatus.BAD_REQUEST), 400, "BadRequestError", "messages");
        assertEnvelope(chat("{\"messages\":[{\"role\":\"wizard\",\"content\":\"x\"}]}", HttpStatus.BAD_REQUEST),
                400, "BadRequestError", "messages.0.role");
        assertEnvelope(chat("{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\"}]}]}", HttpStatus.BAD_REQUEST),
                400, "BadRequestError", "messages.0.content");
        assertEnvelope(chat("{\"messages\":\"hi\"}", HttpStatus.BAD_REQUEST), 400, "BadRequestError", "messages");
        assertEnvelope(chat("{" + user + ",\"stream_options\":{\"include_usage\":true}}", HttpStatus.BAD_REQUEST),
                400, "BadRequestError", "stream_options");
        assertEnvelope(chat("{" + user + ",\"top_logprobs\":2}", HttpStatus.BAD_REQUEST), 400, "BadRequestError", "top_logprobs");
        // Range errors name the field the client sent, not the one it maps to.
        assertEnvelope(chat("{" + user + ",\"logprobs\":true,\"top_logprobs\":21}", HttpStatus.BAD_REQUEST), 400, "BadRequestError", "top_logprobs");
        assertEnvelope(chat("{" + user + ",\"logprobs\":true,\"top_logprobs\":-1}", HttpStatus.BAD_REQUEST), 400, "BadRequestError", "top_logprobs");
        assertEnvelope(chat("{" + user + ",\"max_completion_tokens\":0}", HttpStatus.BAD_REQUEST), 400, "BadRequestError",
                "max_completion_tokens");
        assertEnvelope(chat("{" + user + ",\"max_tokens\":0}", HttpStatus.BAD_REQUEST), 400, "BadRequestError", "max_tokens");
        assertEnvelope(chat("{" + user + ",\"n\":0}", HttpStatus.BAD_REQUEST), 400, "BadRequestError", "n");
        assertEnvelope(chat("{" + user + ",\"tools\":[{\"type\":\"function\"}]}", HttpStatus.BAD_REQUEST), 400, "BadRequestError", "tools");
        assertEnvelope(chat("{" + user + ",\"response_format\":{\"type\":\"yaml\"}}", HttpStatus.BAD_REQUEST),
                400, "BadRequestError", "response_format");
        assertEnvelope(chat("{" + user + ",\"stop\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}", HttpStatus.BAD_REQUEST), 400, "BadRequestError", "stop");
        assertEnvelope(chat("{" + user + ",\"max_tokens\":4090}", HttpStatus.BAD_REQUEST), 400, "BadRequestError", "max_tokens");
        assertEnvelope(chat("{" + user + ",\"model\":\"other\"}", HttpStatus.NOT_FOUND), 404, "NotFoundError", "model");
        assertEnvelope(chat("{" + user + ",\"temperature\":\"hot\"}", HttpStatus.BAD_REQUEST), 400, "BadRequestError", "temperature");
        // A chat request still works afterwards.
        assertThat(chat("{" + user + ",\"max_tokens\":1}", HttpStatus.OK).get("choices")).hasSize(1);
    }

    @Test
    void oversizedBodiesAre413() {
        String huge = "{\"prompt\":\"" + "a".repeat(11 * 1024 * 1024) + "\"}";
        assertEnvelope(ApiTestSupport.post(client, "/v1/completions", huge, HttpStatus.CONTENT_TOO_LARGE),
                413, "RequestTooLargeError", null);
    }
}
