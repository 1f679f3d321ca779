package dev.podserve.api;

import java.util.ArrayList;
import java.util.List;

import dev.podserve.engine.Engine;
import dev.podserve.engine.GenerationRequest;
import dev.podserve.engine.RequestOutput;
import dev.podserve.sampling.SamplingParams;

import reactor.core.publisher.Flux;

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

    static List<Choice> plan(String responseId, List<int[]> prompts, int n, SamplingParams params, boolean skipSpecialTokens) {
        List<Choice> choices = new ArrayList<>(prompts.size() * n);
        for (int p = 0; p < prompts.size(); p++) {
            for (int i = 0; i < n; i++) {
                int index = p * n + i;
                choices.add(new Choice(index, p, new GenerationRequest(responseId + "-" + index, prompts.get(p),
                        SamplingMapper.forChoice(params, i), skipSpecialTokens)));
            }
        }
        return choices;
    }

    /**
     * Checks every choice before any is queued (so a bad second prompt leaves no first one running),
     * then runs them all; cancelling the result aborts every choice still running.
     */
    static Flux<Event> run(Engine engine, List<Choice> choices) {
        choices.forEach(c -> engine.validate(c.request()));
        List<Flux<Event>> streams = new ArrayList<>(choices.size());
        for (Choice c : choices) {
            streams.add(engine.submit(c.request()).map(o -> new Event(c.index(), o)));
        }
        return Flux.merge(streams);
    }

    /** Prompt tokens counted once per prompt, however many choices share it. */
    static int promptTokens(List<int[]> prompts) {
        return prompts.stream().mapToInt(p -> p.length).sum();
    }
}
