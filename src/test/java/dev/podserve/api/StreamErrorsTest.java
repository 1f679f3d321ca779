package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.podserve.engine.EngineUnavailableException;
import dev.podserve.engine.FinishReason;
import dev.podserve.engine.RequestOutput;
import dev.podserve.engine.ServingModel;
import dev.podserve.engine.StepFailedException;

import reactor.core.publisher.Flux;

/** A failure after the first streamed byte is reported in-band: an error event, then [DONE]. */
class StreamErrorsTest {

    private static final ServingModel MODEL = new ServingModel("m", "m", null, null, null, null, null, "test", 0);

    private static Flux<Choices.Event> oneTokenThen(RuntimeException error) {
        RequestOutput out = new RequestOutput("r-0", "hi", new int[] {104}, List.of(), null, 1, 1);
        return Flux.concat(Flux.just(new Choices.Event(0, out)), Flux.error(error));
    }

    @Test
    void chatStreamEndsWithAnErrorEventAndDone() {
        List<Choices.Choice> choices = List.of(new Choices.Choice(0, 0, null));
        String sse = String.join("", ChatResponses.stream(new ChatResponses.Meta("c", 1, MODEL, 1, false), choices,
                oneTokenThen(new StepFailedException("the compute step failed", new IllegalStateException())), false,
                ApiTestSupport.JSON).collectList().block());
        assertThat(sse).contains("\"content\":\"hi\"");
        assertThat(sse).endsWith("data: {\"error\":{\"message\":\"the compute step failed\","
                + "\"type\":\"InternalServerError\",\"param\":null,\"code\":500}}\n\ndata: [DONE]\n\n");
    }

    @Test
    void completionStreamReportsShutdownAs503() {
        List<Choices.Choice> choices = List.of(new Choices.Choice(0, 0, null));
        String sse = String.join("", CompletionResponses.stream(new CompletionResponses.Meta("c", 1, MODEL, 1, false, null),
                choices, oneTokenThen(new EngineUnavailableException("the engine shut down")), false, ApiTestSupport.JSON)
                .collectList().block());
        assertThat(sse).contains("\"text\":\"hi\"").contains("\"code\":503").contains("the engine shut down")
                .endsWith("data: [DONE]\n\n");
        assertThat(FinishReason.ABORT.wire()).isEqualTo("abort");
    }
}
