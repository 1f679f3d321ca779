package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;

import dev.podserve.engine.EngineUnavailableException;
import dev.podserve.engine.FinishReason;
import dev.podserve.engine.QueueTimeoutException;
import dev.podserve.engine.RequestOutput;
import dev.podserve.engine.ServingModel;
import dev.podserve.engine.StepFailedException;

import reactor.core.publisher.Flux;

/**
 * A failure after the first streamed byte is reported in-band: an error event, then [DONE]; one
 * before any byte is passed on, so the client gets a real status.
 */
class StreamErrorsTest {

    private static final ServingModel MODEL = new ServingModel("m", "m", null, null, null, null, null, "test", 0);

    private static Flux<Choices.Event> oneTokenThen(RuntimeException error) {
        RequestOutput out = new RequestOutput("r-0", "hi", new int[] {104}, List.of(), null, 1, 1);
        return Flux.concat(Flux.just(new Choices.Event(0, out)), Flux.error(error));
    }

    @Test
    void chatStreamEndsWithAnErrorEventAndDone() {
        List<Choices.Choice> choices = List.of(new Choices.Choice(0, 0, null));
        String sse = String.join("", ChatResponses.stream(new ChatResponses.Meta("c", 1, MODEL, 1, false, null), choices,
                oneTokenThen(new StepFailedException("the compute step failed", new IllegalStateException())), StreamUsage.NONE,
                ApiTestSupport.JSON).collectList().block());
        assertThat(sse).contains("\"content\":\"hi\"");
        assertThat(sse).endsWith("data: {\"error\":{\"message\":\"the compute step failed\","
                + "\"type\":\"InternalServerError\",\"param\":null,\"code\":500}}\n\ndata: [DONE]\n\n");
    }

    /** Nothing said yet: the failure is passed on, for Sse.write to answer with a status. */
    @Test
    void aCompletionStreamFailingBeforeItsFirstFramePassesTheFailureOn() {
        List<Choices.Choice> choices = List.of(new Choices.Choice(0, 0, null));
        QueueTimeoutException timeout = new QueueTimeoutException("not scheduled within max-queue-time");
        Flux<String> frames = CompletionResponses.stream(new CompletionResponses.Meta("c", 1, MODEL, 1, null, null, null),
                choices, Flux.error(timeout), StreamUsage.NONE, ApiTestSupport.JSON);
        assertThatThrownBy(() -> frames.collectList().block()).isSameAs(timeout);
    }

    /** Likewise a chat stream: its role chunks wait for the first output, so nothing has been said either. */
    @Test
    void aChatStreamFailingBeforeItsFirstOutputPassesTheFailureOn() {
        List<Choices.Choice> choices = List.of(new Choices.Choice(0, 0, null), new Choices.Choice(1, 0, null));
        QueueTimeoutException timeout = new QueueTimeoutException("not scheduled within max-queue-time");
        Flux<String> frames = ChatResponses.stream(new ChatResponses.Meta("c", 1, MODEL, 1, false, null), choices,
                Flux.error(timeout), StreamUsage.LAST_CHUNK, ApiTestSupport.JSON);
        assertThatThrownBy(() -> frames.collectList().block()).isSameAs(timeout);
    }

    /** Once the engine has output something the role chunks lead, one per choice, before it. */
    @Test
    void aChatStreamsRoleChunksLeadItsFirstOutput() {
        List<Choices.Choice> choices = List.of(new Choices.Choice(0, 0, null));
        List<String> frames = ChatResponses.stream(new ChatResponses.Meta("c", 1, MODEL, 1, false, null), choices,
                oneTokenThen(new StepFailedException("the compute step failed", new IllegalStateException())), StreamUsage.NONE,
                ApiTestSupport.JSON).collectList().block();
        assertThat(frames.get(0)).contains("\"role\":\"assistant\"");
        assertThat(frames.get(1)).contains("\"content\":\"hi\"");
    }

    /** Frames that fail before anything is written leave the response uncommitted, for the error handler's status. */
    @Test
    void sseWriteLeavesTheStatusToTheErrorHandlerWhileNothingWasWritten() {
        MockServerWebExchange exchange = MockServerWebExchange.from(MockServerHttpRequest.post("/v1/completions"));
        EngineUnavailableException down = new EngineUnavailableException("the engine is shutting down");
        assertThatThrownBy(() -> Sse.write(exchange, Flux.error(down), Duration.ofSeconds(15), ApiTestSupport.JSON).block())
                .isSameAs(down);
        assertThat(exchange.getResponse().isCommitted()).isFalse();
    }

    /**
     * Frames that fail once the response is committed, which its first ping does: a fixed delay raced
     * the ping timer, which a loaded machine can fire late.
     */
    private static Flux<String> afterAPing(MockServerWebExchange exchange, RuntimeException error) {
        return Flux.<String>error(error).delaySubscription(
                Flux.interval(Duration.ofMillis(5)).filter(i -> exchange.getResponse().isCommitted()).next());
    }

    /** After a ping the status is out: the failure is an error event and [DONE]. */
    @Test
    void sseWriteSendsTheFailureInBandOnceAPingWentOut() {
        MockServerWebExchange exchange = MockServerWebExchange.from(MockServerHttpRequest.post("/v1/completions"));
        Flux<String> late = afterAPing(exchange, new EngineUnavailableException("the engine shut down"));
        Sse.write(exchange, late, Duration.ofMillis(50), ApiTestSupport.JSON).block(Duration.ofSeconds(10));
        String body = exchange.getResponse().getBodyAsString().block(Duration.ofSeconds(10));
        assertThat(body).startsWith(Sse.PING).contains("\"code\":503").endsWith("data: [DONE]\n\n");
    }

    /** A failing stream signals its failure once: the ping timer's copy used to be dropped and logged as an error. */
    @Test
    void aFailureIsNotDroppedAsASecondCopy() {
        java.util.List<Throwable> dropped = new java.util.concurrent.CopyOnWriteArrayList<>();
        reactor.core.publisher.Hooks.onErrorDropped(dropped::add);
        try {
            MockServerWebExchange exchange = MockServerWebExchange.from(MockServerHttpRequest.post("/v1/completions"));
            EngineUnavailableException down = new EngineUnavailableException("the engine is shutting down");
            assertThatThrownBy(() -> Sse.write(exchange, Flux.error(down), Duration.ofMillis(50), ApiTestSupport.JSON).block())
                    .isSameAs(down);
            MockServerWebExchange pinged = MockServerWebExchange.from(MockServerHttpRequest.post("/v1/completions"));
            Sse.write(pinged, afterAPing(pinged, down), Duration.ofMillis(50), ApiTestSupport.JSON).block(Duration.ofSeconds(10));
            assertThat(dropped).isEmpty();
        } finally {
            reactor.core.publisher.Hooks.resetOnErrorDropped();
        }
    }

    @Test
    void completionStreamReportsShutdownAs503() {
        List<Choices.Choice> choices = List.of(new Choices.Choice(0, 0, null));
        String sse = String.join("", CompletionResponses.stream(new CompletionResponses.Meta("c", 1, MODEL, 1, null, null, null),
                choices, oneTokenThen(new EngineUnavailableException("the engine shut down")), StreamUsage.NONE, ApiTestSupport.JSON)
                .collectList().block());
        assertThat(sse).contains("\"text\":\"hi\"").contains("\"code\":503").contains("the engine shut down")
                .endsWith("data: [DONE]\n\n");
        assertThat(FinishReason.ABORT.wire()).isEqualTo("abort");
    }
}
