package dev.podserve.api;

import java.util.ArrayList;
import java.util.List;

import dev.podserve.engine.Deadlines;
import dev.podserve.engine.Engine;
import dev.podserve.engine.GenerationRequest;
import dev.podserve.structured.OutputGrammar;
import dev.podserve.engine.RequestOutput;
import dev.podserve.sampling.SamplingParams;

import reactor.core.publisher.Flux;
import reactor.core.scheduler.Scheduler;

/**
 * The choices of one API response: every prompt times {@code n}, each its own engine request.
 * Choice {@code i} of prompt {@code p} has index {@code p * n + i}, as OpenAI numbers them.
 */
final class Choices {

    record Choice(int index, int promptIndex, GenerationRequest request) {
    }

    /** One engine output, tagged with the choice it belongs to. */
    record Event(int choice, RequestOutput output) {
    }

    private Choices() {
    }

    /**
     * @param cacheSalt the request's {@code cache_salt}, checked by {@link #cacheSalt}; null for none
     * @param grammar   the structured output every choice must follow ({@link ResponseFormats}); null for free text
     * @param priority  the request's {@code priority}, null for the default 0; every choice waits with it
     */
    static List<Choice> plan(String responseId, List<int[]> prompts, int n, SamplingParams params, boolean skipSpecialTokens,
                             String cacheSalt, OutputGrammar grammar, Integer priority) {
        List<Choice> choices = new ArrayList<>(prompts.size() * n);
        for (int p = 0; p < prompts.size(); p++) {
            for (int i = 0; i < n; i++) {
                int index = p * n + i;
                choices.add(new Choice(index, p, new GenerationRequest(responseId + "-" + index, prompts.get(p),
                        SamplingMapper.forChoice(params, i), skipSpecialTokens).withCacheSalt(cacheSalt).withGrammar(grammar)
                        .withPriority(priority == null ? 0 : priority)));
            }
        }
        return choices;
    }

    /**
     * The salt a request's cached pages are keyed by: vLLM's {@code cache_salt}, and with
     * {@code client} (the API key's identity, when the server isolates keys) that too, so one client
     * cannot learn from its {@code cached_tokens} what another's prompt began with.
     *
     * @param client null to share pages across keys
     * @return null for none (shared with every unsalted request)
     * @throws ApiException 400 for an empty or overlong {@code cache_salt}
     */
    static String cacheSalt(String salt, String client) {
        if (salt != null && (salt.isEmpty() || salt.length() > 1024)) {
            throw ApiException.badRequest("cache_salt", "cache_salt must be a non-empty string of at most 1024 characters.");
        }
        if (client == null) {
            return salt;
        }
        // Lengths first, so that no pair of (client, salt) spells another's.
        return client.length() + ":" + client + (salt == null ? "" : "|" + salt.length() + ":" + salt);
    }

    /** Checks every choice before any is queued, so a bad second prompt leaves no first one running. */
    static void validate(Engine engine, List<Choice> choices) {
        choices.forEach(c -> engine.validate(c.request()));
    }

    /**
     * Runs every choice under the request's deadlines; cancelling the result aborts every choice
     * still running. Call {@link #validate} first.
     *
     * <p>Everything downstream of an emission runs where it is emitted unless a hop moves it. On a
     * GPU the engine hands each step's outputs to a thread of its own, which emits them while the
     * next step runs ({@code OutputDelivery}), and they hop from there to {@code deliverOn} (the
     * connection's event loop): building and serialising the chunks, usage and keep-alive timers
     * run there ({@link ConnectionThread#forEngineOutputs}). On the CPU backend all of it stays on
     * the engine thread.
     */
    static Flux<Event> run(Engine engine, List<Choice> choices, Deadlines deadlines, Scheduler deliverOn) {
        List<Flux<Event>> streams = new ArrayList<>(choices.size());
        for (Choice c : choices) {
            streams.add(engine.submit(c.request().withDeadlines(deadlines)).map(o -> new Event(c.index(), o)));
        }
        return Flux.merge(streams).publishOn(deliverOn);
    }

    /**
     * What the request may cost against a tokens-a-minute limit: its prompts, and max_tokens for
     * every choice. A request that scores its prompts is charged each prompt once per choice: every
     * choice computes and scores it (a scoring request of n choices and max_tokens 0 does n times a
     * prompt's work).
     */
    static long tokenCost(List<int[]> prompts, int choices, int maxTokens, boolean scoresPrompts) {
        long prompt = promptTokens(prompts);
        return (scoresPrompts ? prompt * (choices / prompts.size()) : prompt) + (long) choices * maxTokens;
    }

    /** Prompt tokens counted once per prompt, however many choices share it. */
    static int promptTokens(List<int[]> prompts) {
        return prompts.stream().mapToInt(p -> p.length).sum();
    }
}
