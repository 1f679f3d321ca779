package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.podserve.api.dto.ChatCompletionRequest;
import dev.podserve.api.dto.CompletionRequest;

/** Wire names bind to the request records; unknown fields are kept aside, not rejected. */
class RequestBindingTest {

    @Test
    void snakeCaseFieldsAndUnknownOnes() {
        CompletionRequest r = ApiTestSupport.JSON.readValue("{\"prompt\":[1,2],\"max_tokens\":7,\"top_p\":0.5,"
                + "\"stream_options\":{\"include_usage\":true},\"frobnicate\":{\"x\":1},\"best_of\":2}", CompletionRequest.class);
        assertThat(r.maxTokens()).isEqualTo(7);
        assertThat(r.topP()).isEqualTo(0.5);
        assertThat(r.prompt()).isEqualTo(List.of(1, 2));
        assertThat(r.streamOptions().includeUsage()).isTrue();
        assertThat(r.bestOf()).isEqualTo(2);
        assertThat(r.unknownFields()).containsOnlyKeys("frobnicate");
    }

    @Test
    void chatFields() {
        ChatCompletionRequest r = ApiTestSupport.JSON.readValue("{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],"
                + "\"max_completion_tokens\":3,\"top_logprobs\":2,\"logprobs\":true,\"parallel_tool_calls\":false}",
                ChatCompletionRequest.class);
        assertThat(r.messages()).hasSize(1);
        assertThat(r.maxCompletionTokens()).isEqualTo(3);
        assertThat(r.topLogprobs()).isEqualTo(2);
        assertThat(r.unknownFields()).containsOnlyKeys("parallel_tool_calls");
    }
}
