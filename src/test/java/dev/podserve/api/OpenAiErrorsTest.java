package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.http.HttpStatus;

import dev.podserve.engine.EngineUnavailableException;
import dev.podserve.engine.RequestRejectedException;
import dev.podserve.sampling.InvalidSamplingParamException;
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
}
