package dev.podserve.bench.serve;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import com.sun.net.httpserver.HttpServer;

/**
 * How bench serve reads a stream, against a server that writes exactly the bytes a test gives it:
 * a stream cut off without [DONE] is a failure, {@code "error": null} is not one, and a request
 * past its timeout has its connection closed (the server sees it), not just its future failed.
 */
class StreamingClientStreamTest {

    private static final BenchRequest REQUEST = new BenchRequest(0, "random", new int[] {5, 6, 7}, null, 3, 2);

    private HttpServer server;

    @AfterEach
    void stop() {
        if (server != null) server.stop(0);
    }

    /** A server whose one route writes {@code frames}, {@code pauseMs} apart; returns its client. */
    private StreamingClient serving(String[] frames, long pauseMs, Duration timeout, AtomicReference<IOException> writeFailed,
                                    CountDownLatch ended) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/v1/completions", exchange -> {
            exchange.getResponseHeaders().add("Content-Type", "text/event-stream");
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream out = exchange.getResponseBody()) {
                for (String f : frames) {
                    out.write(f.getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    Thread.sleep(pauseMs);
                }
            } catch (IOException e) {
                writeFailed.set(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                ended.countDown();
            }
        });
        server.start();
        return new StreamingClient("http://127.0.0.1:" + server.getAddress().getPort(), StreamingClient.Endpoint.COMPLETIONS, "m",
                null, timeout);
    }

    private static String text(String t) {
        return "data: {\"choices\":[{\"index\":0,\"text\":\"" + t + "\"}],\"error\":null}\n\n";
    }

    @Test
    void aStreamWithoutDoneFailsAndANullErrorFieldDoesNot() throws Exception {
        CountDownLatch ended = new CountDownLatch(1);
        StreamingClient cut = serving(new String[] {text("a"), text("b")}, 0, Duration.ofSeconds(10), new AtomicReference<>(), ended);
        RequestResult r = cut.send(REQUEST, System.nanoTime()).get(10, TimeUnit.SECONDS);
        assertThat(r.success()).isFalse();
        assertThat(r.error()).contains("[DONE]");
        stop();

        StreamingClient whole = serving(new String[] {text("a"), text("b"), "data: [DONE]\n\n"}, 0, Duration.ofSeconds(10),
                new AtomicReference<>(), new CountDownLatch(1));
        RequestResult ok = whole.send(REQUEST, System.nanoTime()).get(10, TimeUnit.SECONDS);
        assertThat(ok.success()).as(ok.error()).isTrue();
        assertThat(ok.itl()).hasSize(1);
        assertThat(ok.validJson()).as("not checked unless asked").isNull();
        stop();

        // --check-json: the text of all chunks together is tested, not each chunk.
        for (String[] parts : new String[][] {{"{\\\"a\\\":", "[1]}"}, {"{\\\"a\\\":", "[1"}}) {
            StreamingClient checked = serving(new String[] {text(parts[0]), text(parts[1]), "data: [DONE]\n\n"}, 0,
                    Duration.ofSeconds(10), new AtomicReference<>(), new CountDownLatch(1)).withExtras(null, true);
            RequestResult result = checked.send(REQUEST, System.nanoTime()).get(10, TimeUnit.SECONDS);
            assertThat(result.validJson()).as(String.join("", parts)).isEqualTo(parts[1].endsWith("}"));
            stop();
        }
    }

    /** Each frame is written, then the server waits {@code pausesMs[i]} (the route serves chat and completions). */
    private String servingPaced(String[] frames, long[] pausesMs) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        com.sun.net.httpserver.HttpHandler handler = exchange -> {
            exchange.getRequestBody().readAllBytes();
            exchange.getResponseHeaders().add("Content-Type", "text/event-stream");
            exchange.sendResponseHeaders(200, 0);
            try (OutputStream out = exchange.getResponseBody()) {
                for (int i = 0; i < frames.length; i++) {
                    out.write(frames[i].getBytes(StandardCharsets.UTF_8));
                    out.flush();
                    if (i < pausesMs.length) Thread.sleep(pausesMs[i]);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        server.createContext("/v1/completions", handler);
        server.createContext("/v1/chat/completions", handler);
        server.start();
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    private static String delta(String field, String value) {
        return "data: {\"choices\":[{\"index\":0,\"delta\":{\"" + field + "\":\"" + value + "\"},\"finish_reason\":null}]}\n\n";
    }

    private static String usage(int completion) {
        return "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":" + completion + "}}\n\n";
    }

    /**
     * A reasoning model's thinking (vLLM and SGLang: reasoning_content; newer vLLM: reasoning) is
     * generated text: it sets TTFT and ITL, and a stream of thinking only is no failure.
     */
    @Test
    void thinkingDeltasAreGeneratedTokens() throws Exception {
        String url = servingPaced(new String[] {
                "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n",
                delta("reasoning_content", "Okay"), delta("reasoning_content", " so"), delta("reasoning", " then"),
                delta("content", "Hi"), usage(4), "data: [DONE]\n\n"}, new long[] {0, 150, 150, 150});
        StreamingClient chat = new StreamingClient(url, StreamingClient.Endpoint.CHAT, "m", null, Duration.ofSeconds(10));
        RequestResult r = chat.send(REQUEST, System.nanoTime()).get(10, TimeUnit.SECONDS);
        assertThat(r.success()).as(r.error()).isTrue();
        assertThat(r.itl()).as("a gap per token chunk after the first").hasSize(3);
        assertThat(r.ttft()).as("the first thinking chunk, not the answer's").isLessThan(r.latency() - 0.3);
        stop();
        String onlyThinking = servingPaced(new String[] {delta("reasoning_content", "a"), delta("reasoning_content", "b"), usage(2),
                "data: [DONE]\n\n"}, new long[0]);
        RequestResult thinking = new StreamingClient(onlyThinking, StreamingClient.Endpoint.CHAT, "m", null, Duration.ofSeconds(10))
                .send(REQUEST, System.nanoTime()).get(10, TimeUnit.SECONDS);
        assertThat(thinking.success()).as(String.valueOf(thinking.error())).isTrue();
    }

    /** The end-to-end latency ends at the last chunk with choices, as vLLM's does: not at a slow usage chunk or body end. */
    @Test
    void theLatencyEndsAtTheLastTokenChunk() throws Exception {
        String url = servingPaced(new String[] {text("a"), text("b"), text("c"), usage(3), "data: [DONE]\n\n"},
                new long[] {100, 100, 600, 0});
        RequestResult r = new StreamingClient(url, StreamingClient.Endpoint.COMPLETIONS, "m", null, Duration.ofSeconds(10))
                .send(REQUEST, System.nanoTime()).get(10, TimeUnit.SECONDS);
        assertThat(r.success()).as(r.error()).isTrue();
        double gaps = 0;
        for (double g : r.itl()) gaps += g;
        assertThat(r.latency()).isCloseTo(r.ttft() + gaps, org.assertj.core.api.Assertions.within(1e-9));
    }

    @Test
    void aTimedOutRequestClosesItsConnection() throws Exception {
        String[] frames = new String[100];
        for (int i = 0; i < frames.length; i++) frames[i] = text("x");
        AtomicReference<IOException> writeFailed = new AtomicReference<>();
        CountDownLatch ended = new CountDownLatch(1);
        StreamingClient slow = serving(frames, 50, Duration.ofMillis(400), writeFailed, ended);
        long t0 = System.nanoTime();
        RequestResult r = slow.send(REQUEST, t0).get(10, TimeUnit.SECONDS);
        assertThat(r.success()).isFalse();
        assertThat(r.error()).contains("timed out");
        // 100 frames take 5 s; the server must hit the closed connection long before.
        assertThat(ended.await(3, TimeUnit.SECONDS)).as("the server stopped writing").isTrue();
        assertThat(writeFailed.get()).as("the server saw the connection closed").isNotNull();
    }
}
