package dev.podserve.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.logging.LogLevel;
import org.springframework.boot.logging.LoggingSystem;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;
import org.springframework.boot.test.web.server.LocalServerPort;

import dev.podserve.config.EngineHolder;
import dev.podserve.resilience.HttpTestClient;

import tools.jackson.databind.JsonNode;

/**
 * API keys and per-key rate limits over HTTP: without a valid {@code Authorization: Bearer} key
 * every API path (however it is spelled) is a 401 in OpenAI's envelope, keys from the list and
 * from the file are accepted, {@code /health} stays open and {@code /metrics} is protected as
 * configured; a key over its requests a second or tokens a minute gets 429 with
 * {@code Retry-After}; and neither keys nor prompts reach the log, even at DEBUG.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
    "podserve.security.api-keys=alpha-key-0001,beta-key-0002,zeta-key-0006,eta-key-0007,theta-key-0008,iota-key-0009,kappa-key-0010",
    "podserve.security.api-keys-file=src/test/resources/security/api-keys.txt",
    "podserve.security.protect-metrics=true",
    "podserve.resilience.rate-limit.requests-per-second=3",
    "podserve.resilience.rate-limit.tokens-per-minute=300",
})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@ExtendWith(OutputCaptureExtension.class)
class ApiSecurityTest {

    private static final String ALPHA = "alpha-key-0001";
    private static final String BETA = "beta-key-0002";
    private static final String GAMMA = "gamma-key-0003";
    private static final String DELTA = "delta-key-0004";
    private static final String EPSILON = "epsilon-key-0005";
    // Each test has keys of its own, so the rate limits of one cannot touch another.
    private static final String ZETA = "zeta-key-0006";
    private static final String ETA = "eta-key-0007";
    private static final String THETA = "theta-key-0008";
    private static final String IOTA = "iota-key-0009";
    private static final String KAPPA = "kappa-key-0010";

    @LocalServerPort
    int port;

    @Autowired
    EngineHolder holder;

    HttpTestClient anonymous;

    @BeforeAll
    void ready() throws InterruptedException {
        holder.await();
        anonymous = new HttpTestClient(port);
    }

    private static HttpRequest.Builder to(HttpTestClient c, String method, String path) {
        HttpRequest.Builder b = c.request(path).header("Content-Type", "application/json");
        return method.equals("GET") ? b.GET() : b.POST(HttpRequest.BodyPublishers.ofString("{\"prompt\":\"hi\",\"tokens\":[1]}"));
    }

    private static void assert401(HttpResponse<String> r) {
        HttpTestClient.assertEnvelope(r, 401, "AuthenticationError");
        assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer");
    }

    @Test
    void everyApiPathNeedsAValidKey() {
        List<String[]> paths = List.of(new String[] {"GET", "/v1/models"}, new String[] {"POST", "/v1/chat/completions"},
                new String[] {"POST", "/v1/completions"}, new String[] {"POST", "/tokenize"}, new String[] {"POST", "/detokenize"},
                new String[] {"GET", "/v1/no-such-route"}, new String[] {"GET", "/%76%31/models"}, new String[] {"GET", "/v1;x=1/models"},
                new String[] {"GET", "/metrics"});
        for (String[] p : paths) {
            assert401(anonymous.send(to(anonymous, p[0], p[1]).build()));
            assert401(anonymous.send(to(anonymous, p[0], p[1]).header("Authorization", "Bearer not-a-key").build()));
            assert401(anonymous.send(to(anonymous, p[0], p[1]).header("Authorization", "Basic " + ALPHA).build()));
            assert401(anonymous.send(to(anonymous, p[0], p[1]).header("Authorization", "Bearer " + ALPHA + "x").build()));
        }
        assertThat(HttpTestClient.assertEnvelope(anonymous.get("/v1/models"), 401, null)).contains("Missing API key");
    }

    @Test
    void keysFromTheListAndTheFileAreAccepted() {
        assertThat(anonymous.withKey(ALPHA).get("/v1/models").statusCode()).isEqualTo(200);
        assertThat(anonymous.withKey(GAMMA).get("/v1/models").statusCode()).isEqualTo(200);
        assertThat(anonymous.send(anonymous.request("/v1/models").header("Authorization", "bearer  " + GAMMA).GET().build())
                .statusCode()).as("scheme in any case").isEqualTo(200);
        assertThat(anonymous.withKey(ALPHA).get("/metrics").statusCode()).isEqualTo(200);
        assertThat(anonymous.get("/health").statusCode()).as("health stays open").isEqualTo(200);
        HttpResponse<String> chat = anonymous.withKey(EPSILON).send(anonymous.withKey(EPSILON)
                .post("/v1/chat/completions", HttpTestClient.chat("hello", 4, false)));
        assertThat(chat.statusCode()).isEqualTo(200);
    }

    @Test
    void aKeyOverItsRequestsASecondGets429() {
        HttpTestClient beta = anonymous.withKey(BETA);
        int refused = 0;
        // Seven requests in well under a second span at most two one-second windows of three.
        for (int i = 0; i < 7; i++) {
            HttpResponse<String> r = beta.get("/v1/models");
            if (r.statusCode() == 429) {
                assertThat(HttpTestClient.assertEnvelope(r, 429, "rate_limit_exceeded")).contains("requests a second");
                assertThat(r.headers().firstValue("Retry-After")).hasValue("1");
                refused++;
            } else {
                assertThat(r.statusCode()).isEqualTo(200);
            }
        }
        assertThat(refused).isPositive();
        assertThat(anonymous.withKey(ZETA).get("/v1/models").statusCode()).as("other keys are not limited").isEqualTo(200);
    }

    @Test
    void aKeyOverItsTokensAMinuteGets429() {
        HttpTestClient delta = anonymous.withKey(DELTA);
        // Each costs its prompt plus 100: two fit in the 300 a minute, the third does not.
        String body = HttpTestClient.chat("hi", 100, false);
        assertThat(delta.send(delta.post("/v1/chat/completions", body)).statusCode()).isEqualTo(200);
        assertThat(delta.send(delta.post("/v1/chat/completions", body)).statusCode()).isEqualTo(200);
        HttpResponse<String> third = delta.send(delta.post("/v1/chat/completions", body));
        assertThat(HttpTestClient.assertEnvelope(third, 429, "rate_limit_exceeded")).contains("tokens a minute");
        assertThat(third.headers().firstValue("Retry-After")).hasValueSatisfying(v -> assertThat(Integer.parseInt(v)).isBetween(1, 60));

        // More than any minute allows: no Retry-After, since waiting would not help.
        HttpTestClient theta = anonymous.withKey(THETA);
        HttpResponse<String> huge = theta.send(theta.post("/v1/chat/completions", HttpTestClient.chat("hi", 400, false)));
        assertThat(HttpTestClient.assertEnvelope(huge, 429, "rate_limit_exceeded")).contains("at most 300 tokens a minute");
        assertThat(huge.headers().firstValue("Retry-After")).isEmpty();
    }

    /**
     * A chat request that sets no length would otherwise be charged the whole context (4096 here)
     * against 300 tokens a minute and could never pass; its completion is held to what the minute
     * leaves after the prompt instead, and it is charged exactly that.
     */
    @Test
    void aChatWithoutALengthFitsTheMinutesTokens() {
        HttpTestClient iota = anonymous.withKey(IOTA);
        String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"ignore_eos\":true,\"temperature\":0}";
        HttpResponse<String> r = iota.send(iota.post("/v1/chat/completions", body));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode usage = HttpTestClient.JSON.readTree(r.body()).get("usage");
        assertThat(usage.get("prompt_tokens").asInt() + usage.get("completion_tokens").asInt()).isEqualTo(300);
        // The minute is spent: the next request waits for the window like any other.
        HttpResponse<String> next = iota.send(iota.post("/v1/chat/completions", body));
        assertThat(HttpTestClient.assertEnvelope(next, 429, "rate_limit_exceeded")).contains("tokens a minute");
        assertThat(next.headers().firstValue("Retry-After")).isPresent();
        // min_tokens above what a minute leaves: a rate-limit refusal, not a 400 about a length never sent.
        HttpResponse<String> least = iota.send(iota.post("/v1/chat/completions", body.replace("\"temperature\":0",
                "\"temperature\":0,\"min_tokens\":400")));
        assertThat(HttpTestClient.assertEnvelope(least, 429, "rate_limit_exceeded")).contains("at most 300 tokens a minute");
    }

    /**
     * The same with {@code n} 2 scoring its prompt: every choice is charged the prompt, so the
     * length each may have is what the minute leaves after the prompt twice, not once.
     */
    @Test
    void aChatWithoutALengthScoringItsPromptForTwoChoicesFitsTheMinutesTokens() {
        HttpTestClient kappa = anonymous.withKey(KAPPA);
        String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"ignore_eos\":true,\"temperature\":0,"
                + "\"n\":2,\"prompt_logprobs\":0}";
        HttpResponse<String> r = kappa.send(kappa.post("/v1/chat/completions", body));
        assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
        JsonNode usage = HttpTestClient.JSON.readTree(r.body()).get("usage");
        int prompt = usage.get("prompt_tokens").asInt();
        assertThat(2 * prompt + usage.get("completion_tokens").asInt()).isBetween(300 - 1, 300);
    }

    @Test
    void neitherKeysNorPromptsAreLoggedEvenAtDebug(CapturedOutput output) {
        LoggingSystem logging = LoggingSystem.get(getClass().getClassLoader());
        List<String> loggers = List.of("dev.podserve", "org.springframework.web", "org.springframework.http", "reactor.netty.http");
        loggers.forEach(l -> logging.setLogLevel(l, LogLevel.DEBUG));
        try {
            HttpTestClient eta = anonymous.withKey(ETA);
            String canary = "canary-prompt-5531";
            assertThat(eta.send(eta.post("/v1/chat/completions", HttpTestClient.chat(canary, 4, false))).statusCode())
                    .isEqualTo(200);
            assertThat(eta.send(eta.post("/tokenize", "{\"prompt\":\"" + canary + "\"}")).statusCode()).isEqualTo(200);
            assertThat(eta.send(eta.post("/v1/chat/completions", "{\"messages\":[{\"role\":\"wizard\",\"content\":\""
                    + canary + "\"}]}")).statusCode()).isEqualTo(400);
            assert401(anonymous.withKey("canary-key-9917").get("/v1/models"));
        } finally {
            loggers.forEach(l -> logging.setLogLevel(l, null));
        }
        assertThat(output.getAll()).as("debug logging was on").contains("401 for /v1/models");
        assertThat(output.getAll()).doesNotContain("canary-prompt-5531").doesNotContain(ETA).doesNotContain("canary-key-9917");
    }
}
