package dev.podserve.security;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import dev.podserve.config.EngineHolder;

/**
 * A page of an allowed origin may call the API from a browser: its preflight passes without a
 * key, and every answer, errors included, carries the CORS headers so the page can read it.
 * Other origins get none, and are refused at the preflight.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
    "podserve.security.api-keys=cors-key-0001",
    "podserve.api.cors-allowed-origins=https://chat.example,https://*.tools.example",
})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class CorsTest {

    private static final String ALLOWED = "https://chat.example";

    @LocalServerPort
    int port;

    @Autowired
    EngineHolder holder;

    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    void ready() throws InterruptedException {
        holder.await();
    }

    private HttpResponse<String> send(HttpRequest.Builder b) throws Exception {
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpRequest.Builder to(String path) {
        return HttpRequest.newBuilder(URI.create("http://localhost:" + port + path));
    }

    private HttpRequest.Builder preflight(String origin) {
        return to("/v1/chat/completions").method("OPTIONS", HttpRequest.BodyPublishers.noBody()).header("Origin", origin)
                .header("Access-Control-Request-Method", "POST")
                .header("Access-Control-Request-Headers", "authorization,content-type,x-stainless-os");
    }

    @Test
    void thePreflightOfAnAllowedOriginPassesWithoutAKey() throws Exception {
        for (String origin : new String[] {ALLOWED, "https://ide.tools.example"}) {
            HttpResponse<String> r = send(preflight(origin));
            assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
            assertThat(r.headers().firstValue("Access-Control-Allow-Origin")).hasValue(origin);
            assertThat(r.headers().firstValue("Access-Control-Allow-Methods")).hasValueSatisfying(m -> assertThat(m).contains("POST"));
        }
    }

    @Test
    void answersAndErrorsCarryTheHeaders() throws Exception {
        String body = "{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"max_tokens\":2}";
        HttpResponse<String> ok = send(to("/v1/chat/completions").header("Origin", ALLOWED)
                .header("Authorization", "Bearer cors-key-0001").header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)));
        assertThat(ok.statusCode()).isEqualTo(200);
        assertThat(ok.headers().firstValue("Access-Control-Allow-Origin")).hasValue(ALLOWED);
        HttpResponse<String> noKey = send(to("/v1/chat/completions").header("Origin", ALLOWED)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)));
        assertThat(noKey.statusCode()).isEqualTo(401);
        assertThat(noKey.headers().firstValue("Access-Control-Allow-Origin")).hasValue(ALLOWED);
        assertThat(noKey.body()).contains("\"error\"");
    }

    @Test
    void otherOriginsAreRefusedInTheErrorEnvelopeWithoutHeaders() throws Exception {
        HttpResponse<String> r = send(preflight("https://evil.example"));
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(r.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
        assertThat(r.body()).contains("\"type\":\"PermissionDeniedError\"").contains("https://evil.example");
        HttpResponse<String> models = send(to("/v1/models").header("Origin", "https://evil.example")
                .header("Authorization", "Bearer cors-key-0001"));
        assertThat(models.statusCode()).isEqualTo(403);
        assertThat(models.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
        assertThat(models.body()).contains("\"error\"").contains("\"code\":403");
    }

    @Test
    void aRequestWithoutAnOriginIsNotCrossOrigin() throws Exception {
        HttpResponse<String> models = send(to("/v1/models").header("Authorization", "Bearer cors-key-0001"));
        assertThat(models.statusCode()).isEqualTo(200);
        assertThat(models.headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
    }
}
