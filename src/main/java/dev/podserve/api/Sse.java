package dev.podserve.api;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.server.ServerWebExchange;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.ObjectMapper;

/**
 * Server-Sent Events byte for byte as OpenAI sends them: {@code data: <json>\n\n} per event, no
 * {@code event:} lines, {@code data: [DONE]} last. Every frame is flushed at once, and a comment
 * line keeps an idle connection alive so a dead socket is noticed while a request waits.
 */
final class Sse {

    static final String DONE = "data: [DONE]\n\n";
    static final String PING = ": ping\n\n";

    private Sse() {
    }

    static String data(String json) {
        return "data: " + json + "\n\n";
    }

    /**
     * A response's frames in order: the opening ones (role chunks, a plain echo of the prompt), the
     * body's (from the engine's output), the closing ones (usage, then [DONE]). The opening frames go
     * out with the body's first frame, not ahead of it: until the engine has said something a request
     * can still fail unstarted (withdrawn from the queue at max-queue-time, the engine shutting down),
     * and a stream that has written nothing passes the failure on, for {@link #write} to answer with a
     * real status (429 with {@code Retry-After}, 503) that a client's SDK retries on. Once a frame is
     * out, a failure goes in-band: an error event, then [DONE].
     */
    static Flux<String> frames(Flux<String> opening, Flux<String> body, Mono<String> closing, ObjectMapper json) {
        AtomicBoolean started = new AtomicBoolean();
        Flux<String> opened = body.switchOnFirst((first, rest) -> first.isOnError() ? rest : Flux.concat(opening, rest));
        return Flux.concat(opened, closing, Mono.just(DONE))
                .doOnNext(f -> started.set(true))
                .onErrorResume(e -> started.get() ? Flux.just(StreamErrors.frame(json, e), DONE) : Flux.error(e));
    }

    /**
     * Writes the frames, adding a ping after every {@code keepAlive} without a frame (zero: never),
     * and flushing each frame. Cancelling (the client left) cancels the frames' source.
     *
     * <p>A failure of the frames before anything was written (a request withdrawn from the engine's
     * queue, the engine shutting down) is passed on, so the client gets a real status (429 with
     * {@code Retry-After}, 503) that its SDK can retry on; once a frame or a ping went out the
     * status is sent, and the failure goes in-band.
     */
    static Mono<Void> write(ServerWebExchange exchange, Flux<String> frames, Duration keepAlive, ObjectMapper json) {
        ServerHttpResponse response = exchange.getResponse();
        response.getHeaders().setContentType(MediaType.TEXT_EVENT_STREAM);
        response.getHeaders().setCacheControl("no-cache");
        Flux<String> out = keepAlive.isZero() || keepAlive.isNegative() ? frames : frames.publish(shared -> Flux.merge(shared,
                // Each frame restarts the silence timer; the pings end with the frames. A failure of
                // the frames ends the pings quietly: the frames' own branch carries it, and the
                // copies the ping branch's two subscriptions get would be dropped and logged as errors.
                shared.map(f -> 0L).onErrorComplete().startWith(0L)
                        .switchMap(f -> Flux.interval(keepAlive, keepAlive))
                        .map(i -> PING)
                        .takeUntilOther(shared.then().onErrorComplete())));
        AtomicBoolean wrote = new AtomicBoolean();
        out = out.doOnNext(f -> wrote.set(true))
                .onErrorResume(e -> wrote.get() ? Flux.just(StreamErrors.frame(json, e), DONE) : Flux.error(e));
        // Frames come from the engine thread and pings from a timer; both are written from the
        // connection's event loop (see ConnectionThread).
        return response.writeAndFlushWith(out.publishOn(ConnectionThread.of(exchange)).map(frame ->
                Mono.just(response.bufferFactory().wrap(frame.getBytes(StandardCharsets.UTF_8)))));
    }
}
