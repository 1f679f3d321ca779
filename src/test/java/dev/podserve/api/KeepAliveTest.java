package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.core.io.buffer.DataBufferUtils;
import org.springframework.http.MediaType;
import org.springframework.web.reactive.function.client.WebClient;

import dev.podserve.config.EngineHolder;
import dev.podserve.engine.EngineStats;

import reactor.core.Disposable;
import reactor.core.publisher.Flux;

/**
 * A streamed request that waits behind another gets {@code : ping} comments, and only those, while it waits, and
 * both are aborted, their KV pages freed, when their clients go away.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT, properties = {
        "podserve.api.keep-alive=100ms", "podserve.scheduler.max-num-seqs=1", "podserve.scheduler.max-num-batched-tokens=16"})
class KeepAliveTest {

    @LocalServerPort
    int port;

    @Autowired
    EngineHolder holder;

    private Flux<String> stream(String body) {
        return WebClient.create("http://localhost:" + port).post().uri("/v1/chat/completions")
                .contentType(MediaType.APPLICATION_JSON).bodyValue(body).retrieve().bodyToFlux(DataBuffer.class)
                .map(b -> {
                    String s = b.toString(StandardCharsets.UTF_8);
                    DataBufferUtils.release(b);
                    return s;
                });
    }

    @Test
    void waitingStreamGetsPingsAndDisconnectsFreeEverything() throws Exception {
        holder.await();
        String longOne = "{\"messages\":[{\"role\":\"user\",\"content\":\"first\"}],\"stream\":true,\"max_tokens\":4000,\"ignore_eos\":true}";
        StringBuilder first = new StringBuilder();
        Disposable running = stream(longOne).subscribe(first::append);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (holder.require().engine().stats().running() < 1 && System.nanoTime() < deadline) Thread.sleep(5);

        String waiting = stream(longOne.replace("first", "second"))
                .takeUntil(s -> s.contains(": ping"))
                .reduce("", String::concat)
                .block(Duration.ofSeconds(20));
        // Pings first: its role chunk waits for its first output (Sse.frames). (A read may carry what
        // followed the ping too, so only the start is certain.)
        assertThat(waiting).startsWith(Sse.PING);
        running.dispose();

        EngineStats s = holder.require().engine().stats();
        while ((s.running() + s.waiting() > 0 || s.kvUsage() > 0) && System.nanoTime() < deadline) {
            Thread.sleep(5);
            s = holder.require().engine().stats();
        }
        assertThat(s.running()).isZero();
        assertThat(s.waiting()).isZero();
        assertThat(s.kvUsage()).isZero();
        assertThat(first.toString()).contains("data: {\"id\"").contains("\"role\":\"assistant\"");
    }
}
