package dev.podserve.api.clients;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.errors.NotFoundException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import com.openai.models.completions.Completion;
import com.openai.models.completions.CompletionChoice;
import com.openai.models.completions.CompletionCreateParams;
import com.openai.models.completions.CompletionUsage;
import com.openai.models.models.Model;

import dev.podserve.config.EngineHolder;

/**
 * The official OpenAI Java SDK against the server over a real port. Greedy decoding with
 * {@code ignore_eos} fixes every length, so streamed and non-streamed answers must agree exactly.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OpenAiJavaSdkTest {

    private static final String MODEL = "podserve-tiny";
    private static final String USER = "Write a haiku about paged attention.";
    private static final int MAX_TOKENS = 30;
    /** ChatML around one user message: im_start, "user\n", the text, im_end, "\n", im_start, "assistant\n". */
    private static final int CHAT_PROMPT_TOKENS = USER.length() + 19;

    @LocalServerPort
    int port;

    @Autowired
    EngineHolder holder;

    OpenAIClient client;

    @BeforeAll
    void start() throws InterruptedException {
        holder.await();
        // No retries: a server mistake must surface as the first failure, not be papered over by a second try.
        client = OpenAIOkHttpClient.builder().baseUrl("http://localhost:" + port + "/v1").apiKey("sk-test")
                .maxRetries(0).timeout(Duration.ofSeconds(60)).build();
    }

    @AfterAll
    void stop() {
        if (client != null) client.close();
    }

    private static ChatCompletionCreateParams.Builder greedyChat() {
        return ChatCompletionCreateParams.builder().model(MODEL).addUserMessage(USER).maxTokens(MAX_TOKENS).temperature(0.0)
                .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true));
    }

    private static CompletionCreateParams.Builder greedyCompletion() {
        return CompletionCreateParams.builder().model(MODEL).prompt("Hello").maxTokens(MAX_TOKENS).temperature(0.0)
                .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true));
    }

    /** Per choice index, the text its deltas add up to; the finish reasons and the usage chunk on the side. */
    private record Streamed(Map<Long, String> text, Map<Long, String> finish, List<CompletionUsage> usages, int chunks) {
    }

    private Streamed streamChat(ChatCompletionCreateParams params) {
        Map<Long, StringBuilder> text = new TreeMap<>();
        Map<Long, String> finish = new TreeMap<>();
        List<CompletionUsage> usages = new ArrayList<>();
        int chunks = 0;
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            for (ChatCompletionChunk chunk : (Iterable<ChatCompletionChunk>) stream.stream()::iterator) {
                // validate() walks every field the SDK knows, so a malformed chunk fails here, not later.
                chunk.validate();
                chunks++;
                assertThat(chunk.model()).isEqualTo(MODEL);
                chunk.usage().ifPresent(usages::add);
                for (ChatCompletionChunk.Choice c : chunk.choices()) {
                    assertThat(finish).as("no delta after choice %d finished", c.index()).doesNotContainKey(c.index());
                    c.delta().content().ifPresent(s -> text.computeIfAbsent(c.index(), k -> new StringBuilder()).append(s));
                    c.finishReason().ifPresent(r -> finish.put(c.index(), r.asString()));
                }
            }
        }
        Map<Long, String> joined = new TreeMap<>();
        text.forEach((k, v) -> joined.put(k, v.toString()));
        return new Streamed(joined, finish, usages, chunks);
    }

    @Test
    void chatStreamedDeltasAddUpToTheNonStreamedAnswer() {
        ChatCompletion whole = client.chat().completions().create(greedyChat().build()).validate();
        assertThat(whole.id()).startsWith("chatcmpl-");
        assertThat(whole.model()).isEqualTo(MODEL);
        assertThat(whole.choices()).hasSize(1);
        ChatCompletion.Choice choice = whole.choices().get(0);
        assertThat(choice.finishReason()).isEqualTo(ChatCompletion.Choice.FinishReason.LENGTH);
        String text = choice.message().content().orElseThrow();
        assertThat(text).isNotEmpty();
        CompletionUsage usage = whole.usage().orElseThrow();
        assertThat(usage.promptTokens()).isEqualTo(CHAT_PROMPT_TOKENS);
        assertThat(usage.completionTokens()).isEqualTo(MAX_TOKENS);
        assertThat(usage.totalTokens()).isEqualTo(CHAT_PROMPT_TOKENS + MAX_TOKENS);

        Streamed streamed = streamChat(greedyChat().build());
        assertThat(streamed.text()).containsExactly(Map.entry(0L, text));
        assertThat(streamed.finish()).containsExactly(Map.entry(0L, "length"));
        assertThat(streamed.usages()).as("usage only when asked").isEmpty();
        // A role chunk, at least one content chunk, a finishing chunk: the stream is really incremental.
        assertThat(streamed.chunks()).isGreaterThan(3);
    }

    @Test
    void includeUsagePutsTheCountsInTheLastChunkOnly() {
        ChatCompletionCreateParams params = greedyChat()
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
        List<ChatCompletionChunk> chunks = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
            stream.stream().forEach(c -> chunks.add(c.validate()));
        }
        ChatCompletionChunk last = chunks.get(chunks.size() - 1);
        assertThat(last.choices()).isEmpty();
        CompletionUsage usage = last.usage().orElseThrow();
        assertThat(usage.promptTokens()).isEqualTo(CHAT_PROMPT_TOKENS);
        assertThat(usage.completionTokens()).isEqualTo(MAX_TOKENS);
        assertThat(usage.totalTokens()).isEqualTo(CHAT_PROMPT_TOKENS + MAX_TOKENS);
        for (ChatCompletionChunk c : chunks.subList(0, chunks.size() - 1)) {
            assertThat(c.usage()).as("usage before the last chunk").isEmpty();
            assertThat(c.choices()).hasSize(1);
        }
        assertThat(chunks.stream().map(ChatCompletionChunk::id).distinct()).hasSize(1);
    }

    /**
     * vLLM's extras reach an SDK that does not know them: {@code stop_reason} as an additional
     * property of a choice, and with {@code continuous_usage_stats} a usage on every chunk, which
     * the typed getter reads and {@code validate()} accepts.
     */
    @Test
    void vllmStopReasonAndContinuousUsageReachTheSdk() {
        ChatCompletionCreateParams.Builder forcedA = greedyChat().stop("AA")
                .putAdditionalBodyProperty("logit_bias", JsonValue.from(Map.of("65", 100)));
        ChatCompletion whole = client.chat().completions().create(forcedA.build()).validate();
        assertThat(whole.choices().get(0)._additionalProperties()).containsEntry("stop_reason", JsonValue.from("AA"));

        ChatCompletionCreateParams streaming = forcedA.streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true)
                .putAdditionalProperty("continuous_usage_stats", JsonValue.from(true)).build()).build();
        List<ChatCompletionChunk> chunks = new ArrayList<>();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(streaming)) {
            stream.stream().forEach(c -> chunks.add(c.validate()));
        }
        assertThat(chunks).allSatisfy(c -> assertThat(c.usage()).isPresent());
        ChatCompletionChunk.Choice finishing = chunks.get(chunks.size() - 2).choices().get(0);
        assertThat(finishing.finishReason()).contains(ChatCompletionChunk.Choice.FinishReason.STOP);
        assertThat(finishing._additionalProperties()).containsEntry("stop_reason", JsonValue.from("AA"));
        assertThat(chunks.get(chunks.size() - 1).usage().orElseThrow().completionTokens()).isEqualTo(2);
    }

    @Test
    void twoChoicesStreamedAndNot() {
        ChatCompletion whole = client.chat().completions().create(greedyChat().n(2).build()).validate();
        assertThat(whole.choices()).extracting(ChatCompletion.Choice::index).containsExactly(0L, 1L);
        String first = whole.choices().get(0).message().content().orElseThrow();
        // Greedy: both choices are the same argmax path.
        assertThat(whole.choices().get(1).message().content()).contains(first);
        assertThat(whole.usage().orElseThrow().completionTokens()).isEqualTo(2L * MAX_TOKENS);
        assertThat(whole.usage().orElseThrow().promptTokens()).as("the prompt is counted once").isEqualTo(CHAT_PROMPT_TOKENS);

        Streamed streamed = streamChat(greedyChat().n(2)
                .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build());
        assertThat(streamed.text()).containsExactly(Map.entry(0L, first), Map.entry(1L, first));
        assertThat(streamed.finish()).containsExactly(Map.entry(0L, "length"), Map.entry(1L, "length"));
        assertThat(streamed.usages()).singleElement().satisfies(u -> {
            assertThat(u.completionTokens()).isEqualTo(2L * MAX_TOKENS);
            assertThat(u.promptTokens()).isEqualTo(CHAT_PROMPT_TOKENS);
        });
    }

    @Test
    void textCompletionStreamedAndNot() {
        Completion whole = client.completions().create(greedyCompletion().build()).validate();
        assertThat(whole.id()).startsWith("cmpl-");
        CompletionChoice choice = whole.choices().get(0);
        assertThat(choice.finishReason()).isEqualTo(CompletionChoice.FinishReason.LENGTH);
        CompletionUsage usage = whole.usage().orElseThrow();
        assertThat(usage.promptTokens()).isEqualTo(5);
        assertThat(usage.completionTokens()).isEqualTo(MAX_TOKENS);

        StringBuilder text = new StringBuilder();
        List<String> finishes = new ArrayList<>();
        List<CompletionUsage> usages = new ArrayList<>();
        CompletionCreateParams streaming = greedyCompletion()
                .putAdditionalBodyProperty("stream_options", JsonValue.from(Map.of("include_usage", true))).build();
        try (StreamResponse<Completion> stream = client.completions().createStreaming(streaming)) {
            stream.stream().forEach(chunk -> {
                chunk.usage().ifPresent(usages::add);
                for (CompletionChoice c : chunk.choices()) {
                    text.append(c.text());
                    // OpenAI sends null here until the last chunk; the SDK's typed getter insists on a value.
                    c._finishReason().asKnown().map(CompletionChoice.FinishReason::asString).ifPresent(finishes::add);
                }
            });
        }
        assertThat(text.toString()).isEqualTo(choice.text());
        assertThat(finishes).containsExactly("length");
        assertThat(usages).singleElement().satisfies(u -> {
            assertThat(u.promptTokens()).isEqualTo(5);
            assertThat(u.completionTokens()).isEqualTo(MAX_TOKENS);
            assertThat(u.totalTokens()).isEqualTo(5 + MAX_TOKENS);
        });
    }

    /**
     * Scoring a prompt through the SDK: echo, logprobs 1, max_tokens 0. The first prompt token's
     * logprob and alternatives are null, as OpenAI sends them; the typed lists must still read.
     */
    @Test
    void echoWithLogprobsScoresThePromptThroughTheSdk() {
        Completion scored = client.completions().create(CompletionCreateParams.builder().model(MODEL).prompt("Hello")
                .maxTokens(0L).echo(true).logprobs(1L).build());
        CompletionChoice choice = scored.choices().get(0);
        assertThat(choice.text()).isEqualTo("Hello");
        assertThat(choice.finishReason()).isEqualTo(CompletionChoice.FinishReason.LENGTH);
        CompletionChoice.Logprobs lp = choice.logprobs().orElseThrow();
        assertThat(lp.tokens().orElseThrow()).hasSize(5);
        List<Double> values = lp.tokenLogprobs().orElseThrow();
        assertThat(values).hasSize(5);
        assertThat(values.get(0)).isNull();
        assertThat(values.subList(1, 5)).allSatisfy(v -> assertThat(v).isLessThanOrEqualTo(0.0));
        assertThat(lp.textOffset().orElseThrow()).containsExactly(0L, 1L, 2L, 3L, 4L);
        assertThat(scored.usage().orElseThrow().completionTokens()).isZero();
    }

    @Test
    void modelsList() {
        List<Model> models = client.models().list().data();
        assertThat(models).singleElement().satisfies(m -> {
            m.validate();
            assertThat(m.id()).isEqualTo(MODEL);
            assertThat(m.ownedBy()).isEqualTo("podserve");
            assertThat(m.created()).isPositive();
        });
        assertThat(client.models().retrieve(MODEL).id()).isEqualTo(MODEL);
    }

    @Test
    void errorsBecomeTheSdksTypedExceptions() {
        assertThatThrownBy(() -> client.chat().completions().create(greedyChat().model("gpt-4o").build()))
                .isInstanceOfSatisfying(NotFoundException.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(404);
                    assertThat(e.param()).contains("model");
                    assertThat(e.type()).contains("NotFoundError");
                    assertThat(e.getMessage()).contains("gpt-4o");
                });
        assertThatThrownBy(() -> client.chat().completions().create(greedyChat().temperature(-1.0).build()))
                .isInstanceOfSatisfying(BadRequestException.class, e -> {
                    assertThat(e.statusCode()).isEqualTo(400);
                    assertThat(e.param()).contains("temperature");
                    assertThat(e.type()).contains("BadRequestError");
                });
        // Streaming requests are checked before the first byte, so the same error arrives as a status, not in-band.
        assertThatThrownBy(() -> streamChat(greedyChat().model("gpt-4o").build())).isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> client.completions().create(greedyCompletion().temperature(-1.0).build()))
                .isInstanceOf(BadRequestException.class);
    }

    /** What the SDK derives a JSON schema from, and parses the answer back into. */
    public record Sighting(String bird, int count, boolean confirmed) {
    }

    /**
     * The SDK's structured outputs: it writes the schema of a Java class (strict: every field
     * required, no other names) into response_format, and reads the answer back into the class.
     */
    @Test
    void structuredOutputsFromAJavaClassParseBack() {
        var params = ChatCompletionCreateParams.builder().model(MODEL).addUserMessage("Report one sighting.")
                .maxCompletionTokens(3000).temperature(1.0).seed(2L).responseFormat(Sighting.class).build();
        var answer = client.chat().completions().create(params).choices().get(0);
        assertThat(answer.finishReason().asString()).isEqualTo("stop");
        Sighting s = answer.message().content().orElseThrow();
        assertThat(s.bird()).isNotNull();
    }

    /** A named tool choice through the SDK: the call and its arguments in the SDK's own types. */
    @Test
    void aForcedToolCallReadsBackInTheSdksTypes() {
        var parameters = com.openai.models.FunctionParameters.builder()
                .putAdditionalProperty("type", JsonValue.from("object"))
                .putAdditionalProperty("properties", JsonValue.from(Map.of("city", Map.of("type", "string", "maxLength", 10))))
                .putAdditionalProperty("required", JsonValue.from(List.of("city")))
                .putAdditionalProperty("additionalProperties", JsonValue.from(false)).build();
        var params = ChatCompletionCreateParams.builder().model(MODEL).addUserMessage("Weather in Oslo?").maxTokens(200)
                .addFunctionTool(com.openai.models.FunctionDefinition.builder().name("get_weather").parameters(parameters).build())
                .toolChoice(com.openai.models.chat.completions.ChatCompletionNamedToolChoice.builder()
                        .function(com.openai.models.chat.completions.ChatCompletionNamedToolChoice.Function.builder().name("get_weather").build())
                        .build())
                .build();
        var message = client.chat().completions().create(params).choices().get(0).message();
        var call = message.toolCalls().orElseThrow().get(0).asFunction();
        assertThat(call.function().name()).isEqualTo("get_weather");
        assertThat(call.id()).startsWith("call_");
        assertThat(tools.jackson.databind.json.JsonMapper.builder().build().readTree(call.function().arguments()).has("city")).isTrue();
    }
}
