package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;

import dev.podserve.engine.EngineUnavailableException;
import dev.podserve.engine.QueueTimeoutException;
import dev.podserve.engine.RequestRejectedException;
import dev.podserve.engine.StepFailedException;
import dev.podserve.resilience.RejectedException;
import dev.podserve.sampling.InvalidSamplingParamException;
import dev.podserve.security.UnauthorizedException;
import dev.podserve.tokenizer.ChatTemplateException;

/** Which failure becomes which status and type: bad input must never come out as a 5xx. */
class OpenAiErrorsTest {

    @Test
    void clientMistakesAre4xxWithTheirParam() {
        assertThat(OpenAiErrors.map(new InvalidSamplingParamException("top_p", "bad")).status()).isEqualTo(HttpStatus.BAD_REQUEST);
        assertThat(OpenAiErrors.map(new InvalidSamplingParamException("top_p", "bad")).body().error().param()).isEqualTo("top_p");
        assertThat(OpenAiErrors.map(new RequestRejectedException("max_tokens", "long")).body().error().type()).isEqualTo("BadRequestError");
        OpenAiErrors.Mapped template = OpenAiErrors.map(new ChatTemplateException("boom"));
        assertThat(template.status()).isEqualTo(HttpStatus.BAD_REQUEST);
        assertThat(template.body().error().message()).contains("boom");
    }

    @Test
    void loadingIs503() {
        OpenAiErrors.Mapped m = OpenAiErrors.map(new EngineUnavailableException("the model is still loading; retry shortly"));
        assertThat(m.status()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
        assertThat(m.body().error().type()).isEqualTo("ServiceUnavailableError");
        assertThat(m.body().error().code()).isEqualTo(503);
    }

    @Test
    void messagesAreBounded() {
        OpenAiErrors.Mapped m = OpenAiErrors.map(ApiException.badRequest("prompt", "x".repeat(5000)));
        assertThat(m.body().error().message()).hasSize(OpenAiErrors.MAX_MESSAGE);
    }

    @Test
    void unknownFailuresAre500WithoutInternals() {
        OpenAiErrors.Mapped m = OpenAiErrors.map(new NullPointerException("secret internals"));
        assertThat(m.status()).isEqualTo(HttpStatus.INTERNAL_SERVER_ERROR);
        assertThat(m.body().error().message()).doesNotContain("secret");
    }

    @Test
    void rejectionsCarryTheirStatusAndRetryAfterEvenWhenWrapped() {
        OpenAiErrors.Mapped overload = OpenAiErrors.map(new RejectedException(RejectedException.Reason.OVERLOADED, "full",
                java.time.Duration.ofMillis(1500)));
        assertThat(overload.status()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
        assertThat(overload.body().error().type()).isEqualTo("rate_limit_exceeded");
        assertThat(overload.retryAfterSeconds()).isEqualTo(2);
        // The engine wraps what the guarded backend throws in its step failure.
        OpenAiErrors.Mapped open = OpenAiErrors.map(new StepFailedException("step failed", new RejectedException(
                RejectedException.Reason.BACKEND_FAILING, "circuit breaker open", java.time.Duration.ofSeconds(30))));
        assertThat(open.status()).isEqualTo(HttpStatus.SERVICE_UNAVAILABLE);
        assertThat(open.retryAfterSeconds()).isEqualTo(30);
        OpenAiErrors.Mapped shutdown = OpenAiErrors.map(new RejectedException(RejectedException.Reason.SHUTTING_DOWN, "bye", null));
        assertThat(shutdown.retryAfterSeconds()).isEqualTo(-1);
        assertThat(OpenAiErrors.map(new QueueTimeoutException("late")).status()).isEqualTo(HttpStatus.TOO_MANY_REQUESTS);
    }

    @Test
    void missingKeyIs401() {
        OpenAiErrors.Mapped m = OpenAiErrors.map(new UnauthorizedException("Invalid API key."));
        assertThat(m.status()).isEqualTo(HttpStatus.UNAUTHORIZED);
        assertThat(m.body().error().type()).isEqualTo("AuthenticationError");
    }
}
