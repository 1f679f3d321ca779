package dev.podserve.api;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.IntFunction;

import dev.podserve.api.dto.CompletionChunk;
import dev.podserve.api.dto.CompletionResponse;
import dev.podserve.api.dto.PromptLogprob;
import dev.podserve.engine.ServingModel;
import dev.podserve.engine.TokenLogprob;
import dev.podserve.tokenizer.HfTokenizer;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.ObjectMapper;

/** Engine outputs to {@code text_completion} objects, or to their chunk stream. */
final class CompletionResponses {

    private CompletionResponses() {
    }

    /**
     * @param logprobsCount  the request's {@code logprobs} (null: none)
     * @param echoes         per choice, the prompt text to put before the completion (null: no echo)
     * @param promptLogprobs the request's {@code prompt_logprobs} (null: none)
     */
    record Meta(String id, long created, ServingModel model, int promptTokens, Integer logprobsCount, String[] echoes,
                Integer promptLogprobs) {

        boolean logprobs() {
            return logprobsCount != null;
        }
    }

    static Mono<CompletionResponse> collect(Meta meta, List<Choices.Choice> choices, Flux<Choices.Event> events) {
        return events.collectList().map(all -> {
            ChoiceResults results = ChoiceResults.of(choices.size(), meta.echoes(), all);
            List<CompletionResponse.Choice> out = new ArrayList<>(results.size());
            for (int i = 0; i < results.size(); i++) {
                CompletionResponse.CompletionLogprobs lp = meta.logprobs() ? logprobs(meta, choices.get(i), results) : null;
                out.add(new CompletionResponse.Choice(i, results.text(i), lp, results.finishReason(i), results.stopReason(i),
                        promptLogprobs(meta, choices.get(i), results)));
            }
            return new CompletionResponse(meta.id(), "text_completion", meta.created(), meta.model().servedName(), out,
                    results.usage(meta.model(), meta.promptTokens(), choicesPerPrompt(choices)));
        });
    }

    private static int choicesPerPrompt(List<Choices.Choice> choices) {
        int prompts = choices.stream().mapToInt(Choices.Choice::promptIndex).max().orElse(0) + 1;
        return Math.max(1, choices.size() / prompts);
    }

    /**
     * {@code best_of}: {@code choices} holds every prompt's candidates ({@code choices.size() /
     * prompts} each, numbered as {@link Choices#plan} numbers them); each prompt returns its
     * {@code n} with the highest mean log-probability per token, best first (earlier candidate on
     * a tie), renumbered {@code p * n + k}. Usage counts every candidate's tokens: all were computed.
     */
    static Mono<CompletionResponse> collectBest(Meta meta, List<Choices.Choice> choices, Flux<Choices.Event> events, int n) {
        return events.collectList().map(all -> {
            ChoiceResults results = ChoiceResults.of(choices.size(), meta.echoes(), all);
            int candidates = choicesPerPrompt(choices);
            int prompts = choices.size() / candidates;
            List<CompletionResponse.Choice> out = new ArrayList<>(prompts * n);
            for (int p = 0; p < prompts; p++) {
                List<Integer> ranked = new ArrayList<>(candidates);
                for (int c = 0; c < candidates; c++) ranked.add(p * candidates + c);
                ranked.sort(Comparator.comparingDouble((Integer c) -> -meanLogprob(results.logprobs(c))));
                for (int k = 0; k < n; k++) {
                    int c = ranked.get(k);
                    CompletionResponse.CompletionLogprobs lp = meta.logprobs() ? logprobs(meta, choices.get(c), results) : null;
                    out.add(new CompletionResponse.Choice(p * n + k, results.text(c), lp, results.finishReason(c), results.stopReason(c),
                            promptLogprobs(meta, choices.get(c), results)));
                }
            }
            return new CompletionResponse(meta.id(), "text_completion", meta.created(), meta.model().servedName(), out,
                    results.usage(meta.model(), meta.promptTokens(), candidates));
        });
    }

    /**
     * A whole choice's log-probabilities: with echo, the prompt's tokens first (when the engine scored
     * them: a choice cut off before its first output has none) and the generated tokens' offsets
     * after the echoed text; without, the generated tokens alone.
     */
    private static CompletionResponse.CompletionLogprobs logprobs(Meta meta, Choices.Choice c, ChoiceResults results) {
        HfTokenizer tok = meta.model().tokenizer();
        int i = c.index();
        if (meta.echoes() == null) return LogprobsMapper.legacy(results.logprobs(i), tok, 0);
        CompletionResponse.CompletionLogprobs generated = LogprobsMapper.legacy(results.logprobs(i), tok, LogprobsMapper.chars(meta.echoes()[i]));
        List<TokenLogprob> prompt = results.promptLogprobs(i);
        return prompt == null ? generated
                : LogprobsMapper.concat(LogprobsMapper.legacyPrompt(c.request().promptTokenIds(), prompt, tok, meta.logprobsCount(),
                        LogprobsMapper.chars(meta.echoes()[i])), generated);
    }

    /** vLLM's {@code prompt_logprobs} of a choice, when asked and scored. */
    private static List<java.util.Map<String, PromptLogprob>> promptLogprobs(Meta meta, Choices.Choice c, ChoiceResults results) {
        List<TokenLogprob> prompt = meta.promptLogprobs() == null ? null : results.promptLogprobs(c.index());
        return prompt == null ? null
                : LogprobsMapper.vllmPrompt(c.request().promptTokenIds(), prompt, meta.model().tokenizer(), meta.promptLogprobs());
    }

    /**
     * Log-probability per token of a candidate's sampled tokens. A candidate with none (cut off by
     * the request timeout before its first token) ranks last, not first at a perfect 0.
     */
    static double meanLogprob(List<TokenLogprob> lps) {
        double sum = 0;
        for (TokenLogprob lp : lps) sum += lp.logprob();
        return lps.isEmpty() ? Double.NEGATIVE_INFINITY : sum / lps.size();
    }

    /**
     * Echo chunks first (when asked; they go out with the first output, see {@link Sse#frames}), a chunk per output with text, a finishing chunk per choice,
     * usage, [DONE]. With logprobs, a choice's echo waits for its first output, which brings the
     * prompt's log-probabilities to send with it. With continuous usage, a chunk counts its own
     * prompt's tokens (as vLLM does for a list of prompts) and its choice's completion tokens so far.
     */
    static Flux<String> stream(Meta meta, List<Choices.Choice> choices, Flux<Choices.Event> events, StreamUsage usage,
                               ObjectMapper json) {
        ChoiceResults counts = new ChoiceResults(choices.size(), null);
        IntFunction<Object> usageOf = c -> usage.slot(() -> choices.get(c).request().promptTokenIds().length, counts.completionTokens(c));
        int[] offsets = new int[choices.size()];
        boolean echoFirst = meta.echoes() != null && !meta.logprobs();
        boolean[] echoed = new boolean[choices.size()];
        // Set here, not as the echoes go out: they wait for the first output (Sse.frames), which reads the offsets.
        if (echoFirst) for (Choices.Choice c : choices) offsets[c.index()] = LogprobsMapper.chars(meta.echoes()[c.index()]);
        Flux<String> echoes = !echoFirst ? Flux.empty() : Flux.fromIterable(choices)
                .map(c -> frame(json, meta, c.index(), meta.echoes()[c.index()], null, usage.slot(() -> c.request().promptTokenIds().length, 0)));
        Flux<String> body = events.concatMapIterable(e -> {
            List<String> frames = new ArrayList<>(2);
            int c = e.choice();
            counts.add(e, false);
            if (meta.echoes() != null && !echoFirst && !echoed[c]) {
                // The first output brings the prompt's scores; one that ends the choice without them
                // (a deadline before it started) still echoes the prompt, without log-probabilities.
                List<TokenLogprob> prompt = e.output().promptLogprobs();
                CompletionResponse.CompletionLogprobs lp = prompt == null ? null
                        : LogprobsMapper.legacyPrompt(choices.get(c).request().promptTokenIds(), prompt, meta.model().tokenizer(),
                                meta.logprobsCount(), LogprobsMapper.chars(meta.echoes()[c]));
                frames.add(frame(json, meta, c, meta.echoes()[c], lp, usageOf.apply(c)));
                offsets[c] = LogprobsMapper.chars(meta.echoes()[c]);
                echoed[c] = true;
            }
            boolean hasLogprobs = meta.logprobs() && !e.output().logprobs().isEmpty();
            if (!e.output().text().isEmpty() || hasLogprobs) {
                CompletionResponse.CompletionLogprobs lp = meta.logprobs()
                        ? LogprobsMapper.legacy(e.output().logprobs(), meta.model().tokenizer(), offsets[c]) : null;
                frames.add(frame(json, meta, c, e.output().text(), lp, usageOf.apply(c)));
                offsets[c] += LogprobsMapper.chars(e.output().text());
            }
            if (e.output().finishReason() != null) {
                Object stopReason = e.output().stopReason() == null ? null : e.output().stopReason().wire();
                frames.add(chunk(json, meta, new CompletionResponse.Choice(c, "", null, e.output().finishReason().wire(), stopReason),
                        usageOf.apply(c)));
            }
            return frames;
        });
        Mono<String> last = !usage.lastChunk() ? Mono.empty() : Mono.fromSupplier(() -> {
            return Sse.data(json.writeValueAsString(new CompletionChunk(meta.id(), "text_completion", meta.created(),
                    meta.model().servedName(), List.of(), counts.usage(meta.model(), meta.promptTokens(), choicesPerPrompt(choices)))));
        });
        return Sse.frames(echoes, body, last, json);
    }

    private static String frame(ObjectMapper json, Meta meta, int index, String text, CompletionResponse.CompletionLogprobs lp,
                                Object usage) {
        return chunk(json, meta, new CompletionResponse.Choice(index, text, lp, null, null), usage);
    }

    private static String chunk(ObjectMapper json, Meta meta, CompletionResponse.Choice choice, Object usage) {
        return Sse.data(json.writeValueAsString(new CompletionChunk(meta.id(), "text_completion", meta.created(),
                meta.model().servedName(), List.of(choice), usage)));
    }
}
