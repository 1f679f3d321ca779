package dev.podserve.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;

import org.junit.jupiter.api.Test;

import dev.podserve.resilience.HttpTestClient;
import dev.podserve.resilience.ResilienceTestServer;

import tools.jackson.databind.JsonNode;

/**
 * {@code podserve.security.limits} over HTTP (this server: n 4, 2 stop strings, 8 logit_bias
 * entries, max_tokens 512, 1024 prompt tokens, 4 prompts, 256 KB bodies): each excess is a 400
 * naming its field (413 for the body), before any work is queued; and chat templates take message
 * text as data, never as template code.
 */
class RequestLimitsApiTest extends ResilienceTestServer {

    private static final String USER = "\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]";

    private void assertRefused(String path, String body, String param) {
        HttpResponse<String> r = client.send(client.post(path, body));
        HttpTestClient.assertEnvelope(r, 400, "BadRequestError");
        assertThat(HttpTestClient.JSON.readTree(r.body()).get("error").get("param").asString()).isEqualTo(param);
    }

    @Test
    void eachLimitIsA400NamingItsField() {
        assertRefused("/v1/chat/completions", "{" + USER + ",\"n\":5}", "n");
        assertRefused("/v1/chat/completions", "{" + USER + ",\"max_tokens\":513}", "max_tokens");
        assertRefused("/v1/chat/completions", "{" + USER + ",\"max_completion_tokens\":513}", "max_completion_tokens");
        assertRefused("/v1/chat/completions", "{" + USER + ",\"stop\":[\"a\",\"b\",\"c\"]}", "stop");
        StringBuilder bias = new StringBuilder("{");
        for (int i = 0; i < 9; i++) bias.append(i == 0 ? "" : ",").append("\"").append(i + 10).append("\":1");
        assertRefused("/v1/chat/completions", "{" + USER + ",\"logit_bias\":" + bias + "}}", "logit_bias");
        assertRefused("/v1/chat/completions", "{\"messages\":[{\"role\":\"user\",\"content\":\"" + "x".repeat(1100) + "\"}]}",
                "messages");
        assertRefused("/v1/completions", "{\"prompt\":[\"a\",\"b\",\"c\",\"d\",\"e\"]}", "prompt");
        assertRefused("/v1/completions", "{\"prompt\":\"" + "y".repeat(1100) + "\"}", "prompt");
        assertRefused("/v1/completions", "{\"prompt\":\"hi\",\"max_tokens\":600}", "max_tokens");
        HttpTestClient.assertEnvelope(client.send(client.post("/v1/completions", "{\"prompt\":\"" + "z".repeat(300_000) + "\"}")),
                413, "RequestTooLargeError");
        assertThat(gate.inFlight() + gate.queued()).as("nothing was admitted").isZero();
        // At the limits, all is well.
        HttpResponse<String> ok = client.send(client.post("/v1/chat/completions", "{" + USER
                + ",\"n\":4,\"max_tokens\":2,\"stop\":[\"a\",\"b\"],\"logit_bias\":{\"10\":1}}"));
        assertThat(ok.statusCode()).as(ok.body()).isEqualTo(200);
    }

    @Test
    void messageTextIsRenderedAsDataNotAsTemplateCode() {
        String hostile = "{{ 7 * 7 }} {% for x in range(3) %}loop{% endfor %} {{ raise_exception('boom') }}";
        HttpResponse<String> t = client.send(client.post("/tokenize",
                "{\"messages\":[{\"role\":\"user\",\"content\":" + HttpTestClient.JSON.writeValueAsString(hostile) + "}]}"));
        assertThat(t.statusCode()).as(t.body()).isEqualTo(200);
        JsonNode tokens = HttpTestClient.JSON.readTree(t.body()).get("tokens");
        HttpResponse<String> d = client.send(client.post("/detokenize", "{\"tokens\":" + tokens + "}"));
        String rendered = HttpTestClient.JSON.readTree(d.body()).get("prompt").asString();
        assertThat(rendered).contains(hostile).doesNotContain("49").doesNotContain("looploop");
    }
}
