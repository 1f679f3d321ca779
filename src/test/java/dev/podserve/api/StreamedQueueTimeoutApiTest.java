package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BiFunction;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import dev.podserve.config.EngineHolder;
import dev.podserve.resilience.HttpTestClient;

/**
 * A stream (text completion, one that echoes its prompt, chat) withdrawn from the engine's queue
 * before its first token has not sent a byte: it gets a real 429, which SDKs retry, instead of a
 * 200 with an error event. One sequence runs at a time, and the admission gate lets both requests
 * in, so the second waits in the engine until max-queue-time.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "podserve.scheduler.max-num-seqs=1", "podserve.scheduler.max-num-batched-tokens=16",
        "podserve.resilience.max-concurrent-requests=4", "podserve.resilience.max-queue-time=400ms"})
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class StreamedQueueTimeoutApiTest {

    @LocalServerPort
    int port;

    @Autowired
    EngineHolder holder;

    HttpTestClient client;

    @BeforeAll
    void ready() throws InterruptedException {
        holder.await();
        client = new HttpTestClient(port);
    }

    private static String completion(String prompt, int maxTokens) {
        return "{\"prompt\":\"" + prompt + "\",\"max_tokens\":" + maxTokens + ",\"ignore_eos\":true,\"stream\":true}";
    }

    /** Echoed prompts go out first in a completion stream, but not before the engine has started the request. */
    private static String echoed(String prompt, int maxTokens) {
        return "{\"prompt\":\"" + prompt + "\",\"max_tokens\":" + maxTokens + ",\"ignore_eos\":true,\"stream\":true,\"echo\":true}";
    }

    /** A chat stream's role chunk likewise waits for the first output. */
    private static String chat(String prompt, int maxTokens) {
        return "{\"messages\":[{\"role\":\"user\",\"content\":\"" + prompt + "\"}],\"max_tokens\":" + maxTokens
                + ",\"ignore_eos\":true,\"stream\":true}";
    }

    @Test
    void aStreamNotStartedInTimeIsA429() throws Exception {
        notStartedInTime("/v1/completions", StreamedQueueTimeoutApiTest::completion);
    }

    @Test
    void anEchoedStreamNotStartedInTimeIsA429() throws Exception {
        notStartedInTime("/v1/completions", StreamedQueueTimeoutApiTest::echoed);
    }

    @Test
    void aChatStreamNotStartedInTimeIsA429() throws Exception {
        notStartedInTime("/v1/chat/completions", StreamedQueueTimeoutApiTest::chat);
    }

    private void notStartedInTime(String path, BiFunction<String, Integer, String> body) throws Exception {
        CompletableFuture<HttpResponse<String>> first = client.sendAsync(client.post(path, body.apply("first", 3000)));
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (holder.require().engine().stats().running() == 0 && System.nanoTime() < until) Thread.sleep(2);
        HttpResponse<String> second = client.send(client.post(path, body.apply("second", 4)));
        assertThat(HttpTestClient.assertEnvelope(second, 429, "rate_limit_exceeded")).contains("max-queue-time");
        assertThat(second.headers().firstValue("Retry-After")).isPresent();
        HttpResponse<String> done = first.get(60, TimeUnit.SECONDS);
        assertThat(done.statusCode()).isEqualTo(200);
        assertThat(done.body()).endsWith("data: [DONE]\n\n");
        HttpResponse<String> after = client.send(client.post(path, body.apply("after", 2)));
        assertThat(after.statusCode()).isEqualTo(200);
        assertThat(after.body()).endsWith("data: [DONE]\n\n");
    }
}
