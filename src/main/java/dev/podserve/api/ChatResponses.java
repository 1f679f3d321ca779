package dev.podserve.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.podserve.api.dto.ChatCompletionChunk;
import dev.podserve.api.dto.ChatCompletionResponse;
import dev.podserve.api.dto.ChatLogprobs;
import dev.podserve.api.dto.PromptLogprob;
import dev.podserve.engine.ServingModel;
import dev.podserve.engine.TokenLogprob;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.node.NullNode;

/** Engine outputs to {@code chat.completion} objects, or to the chunk stream OpenAI clients expect. */
final class ChatResponses {

    private ChatResponses() {
    }

    /** @param promptLogprobs the request's {@code prompt_logprobs} (null: none) */
    record Meta(String id, long created, ServingModel model, int promptTokens, boolean logprobs, Integer promptLogprobs) {
    }

    static Mono<ChatCompletionResponse> collect(Meta meta, List<Choices.Choice> choices, Flux<Choices.Event> events) {
        return events.collectList().map(all -> {
            ChoiceResults results = ChoiceResults.of(choices.size(), null, all);
            List<ChatCompletionResponse.Choice> out = new ArrayList<>(results.size());
            for (int i = 0; i < results.size(); i++) {
                ChatLogprobs lp = meta.logprobs() ? LogprobsMapper.chat(results.logprobs(i), meta.model().tokenizer()) : null;
                out.add(new ChatCompletionResponse.Choice(i,
                        new ChatCompletionResponse.Message("assistant", results.text(i)), lp, results.finishReason(i)));
            }
            return new ChatCompletionResponse(meta.id(), "chat.completion", meta.created(), meta.model().servedName(), out,
                    results.usage(meta.model(), meta.promptTokens(), choices.size()), promptLogprobs(meta, choices, results));
        });
    }

    /**
     * vLLM's {@code prompt_logprobs}, once for the prompt every choice shares: from the first choice
     * that scored it (a choice cut off before its first output has none).
     */
    private static List<Map<String, PromptLogprob>> promptLogprobs(Meta meta, List<Choices.Choice> choices, ChoiceResults results) {
        if (meta.promptLogprobs() == null) return null;
        for (Choices.Choice c : choices) {
            List<TokenLogprob> scored = results.promptLogprobs(c.index());
            if (scored != null) {
                return LogprobsMapper.vllmPrompt(c.request().promptTokenIds(), scored, meta.model().tokenizer(), meta.promptLogprobs());
            }
        }
        return null;
    }

    /**
     * The SSE frames: a role chunk per choice, a content chunk per output with text (or
     * log-probabilities), a finishing chunk with an empty delta per choice, the usage chunk when
     * asked, then [DONE]. Errors after the start are sent in-band.
     */
    static Flux<String> stream(Meta meta, List<Choices.Choice> choices, Flux<Choices.Event> events, boolean includeUsage,
                               ObjectMapper json) {
        Object usageSlot = includeUsage ? NullNode.getInstance() : null;
        ChoiceResults counts = new ChoiceResults(choices.size(), null);
        Flux<String> roles = Flux.fromIterable(choices).map(c -> frame(json, meta, c.index(),
                new ChatCompletionChunk.Delta("assistant", ""), null, null, usageSlot));
        Flux<String> body = events.concatMapIterable(e -> {
            List<String> frames = new ArrayList<>(2);
            counts.add(e, false);
            boolean hasLogprobs = meta.logprobs() && !e.output().logprobs().isEmpty();
            if (!e.output().text().isEmpty() || hasLogprobs) {
                ChatLogprobs lp = meta.logprobs() ? LogprobsMapper.chat(e.output().logprobs(), meta.model().tokenizer()) : null;
                frames.add(frame(json, meta, e.choice(), new ChatCompletionChunk.Delta(null, e.output().text()), lp, null, usageSlot));
            }
            if (e.output().finishReason() != null) {
                frames.add(frame(json, meta, e.choice(), new ChatCompletionChunk.Delta(null, null), null,
                        e.output().finishReason().wire(), usageSlot));
            }
            return frames;
        });
        Mono<String> usage = !includeUsage ? Mono.empty() : Mono.fromSupplier(() -> {
            return Sse.data(json.writeValueAsString(new ChatCompletionChunk(meta.id(), "chat.completion.chunk",
                    meta.created(), meta.model().servedName(), List.of(), counts.usage(meta.model(), meta.promptTokens(), choices.size()))));
        });
        return Flux.concat(roles, body, usage, Mono.just(Sse.DONE))
                .onErrorResume(e -> Flux.just(StreamErrors.frame(json, e), Sse.DONE));
    }

    private static String frame(ObjectMapper json, Meta meta, int index, ChatCompletionChunk.Delta delta, ChatLogprobs lp,
                                String finish, Object usage) {
        return Sse.data(json.writeValueAsString(new ChatCompletionChunk(meta.id(), "chat.completion.chunk", meta.created(),
                meta.model().servedName(), List.of(new ChatCompletionChunk.ChunkChoice(index, delta, lp, finish)), usage)));
    }
}
