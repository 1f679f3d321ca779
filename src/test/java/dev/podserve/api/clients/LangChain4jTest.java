package dev.podserve.api.clients;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.model.output.FinishReason;
import dev.podserve.config.EngineHolder;

/**
 * LangChain4j's OpenAI models (its own JDK HTTP client, its own SSE parser) against the server:
 * the streamed partial responses must add up to the complete response and to the blocking answer.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class LangChain4jTest {

    private static final int MAX_TOKENS = 20;
    private static final String SYSTEM = "You are terse.";
    private static final String USER = "Name a prime.";
    /** ChatML: each message is im_start, role + "\n", content, im_end, "\n"; then im_start, "assistant\n". */
    private static final int PROMPT_TOKENS = (1 + 7 + SYSTEM.length() + 2) + (1 + 5 + USER.length() + 2) + 11;

    @LocalServerPort
    int port;

    @Autowired
    EngineHolder holder;

    @BeforeAll
    void modelReady() throws InterruptedException {
        holder.await();
    }

    private String baseUrl() {
        return "http://localhost:" + port + "/v1";
    }

    // ignore_eos keeps the length fixed; otherwise a random-weight model may stop after a token or two.
    private static final Map<String, Object> EXTRA = Map.of("ignore_eos", true);

    @Test
    void streamedPartialsEqualTheCompleteResponseAndTheBlockingAnswer() throws Exception {
        OpenAiChatModel blocking = OpenAiChatModel.builder().baseUrl(baseUrl()).apiKey("sk-test").modelName("podserve-tiny")
                .temperature(0.0).maxTokens(MAX_TOKENS).customParameters(EXTRA).maxRetries(0)
                .timeout(Duration.ofSeconds(60)).build();
        OpenAiStreamingChatModel streaming = OpenAiStreamingChatModel.builder().baseUrl(baseUrl()).apiKey("sk-test")
                .modelName("podserve-tiny").temperature(0.0).maxTokens(MAX_TOKENS).customParameters(EXTRA)
                .timeout(Duration.ofSeconds(60)).build();

        ChatResponse answer = blocking.chat(SystemMessage.from(SYSTEM), UserMessage.from(USER));
        String text = answer.aiMessage().text();
        assertThat(text).isNotEmpty();
        assertThat(answer.finishReason()).isEqualTo(FinishReason.LENGTH);
        assertThat(answer.tokenUsage().inputTokenCount()).isEqualTo(PROMPT_TOKENS);
        assertThat(answer.tokenUsage().outputTokenCount()).isEqualTo(MAX_TOKENS);
        assertThat(answer.modelName()).isEqualTo("podserve-tiny");

        List<String> partials = new CopyOnWriteArrayList<>();
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        streaming.chat(List.of(SystemMessage.from(SYSTEM), UserMessage.from(USER)), new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String partial) {
                partials.add(partial);
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                done.complete(response);
            }

            @Override
            public void onError(Throwable error) {
                done.completeExceptionally(error);
            }
        });
        ChatResponse complete = done.get(60, TimeUnit.SECONDS);

        assertThat(String.join("", partials)).isEqualTo(complete.aiMessage().text()).isEqualTo(text);
        assertThat(partials).as("tokens arrive one event at a time").hasSizeGreaterThan(1);
        assertThat(complete.finishReason()).isEqualTo(FinishReason.LENGTH);
        // LangChain4j asks for include_usage when streaming; the counts come from the server's last chunk.
        assertThat(complete.tokenUsage()).isNotNull();
        assertThat(complete.tokenUsage().inputTokenCount()).isEqualTo(PROMPT_TOKENS);
        assertThat(complete.tokenUsage().outputTokenCount()).isEqualTo(MAX_TOKENS);
        assertThat(complete.tokenUsage().totalTokenCount()).isEqualTo(PROMPT_TOKENS + MAX_TOKENS);
        assertThat(complete.id()).startsWith("chatcmpl-");
    }
}
