package dev.podserve.api;

import java.util.ArrayList;
import java.util.List;

import dev.podserve.api.dto.Usage;
import dev.podserve.engine.ServingModel;
import dev.podserve.engine.TokenLogprob;

/**
 * What the choices of one response have produced so far: per choice its text, log-probabilities,
 * finish and stop reasons and completion tokens. Fed one engine event at a time, from one subscriber.
 */
final class ChoiceResults {

    private final StringBuilder[] text;
    private final List<List<TokenLogprob>> logprobs;
    /** Per choice, its prompt's log-probabilities once its first output brought them; null before, or when not asked. */
    private final List<List<TokenLogprob>> promptLogprobs;
    private final String[] finish;
    /** Per choice, vLLM's {@code stop_reason} on the wire (a stop string or a token id), or null. */
    private final Object[] stopReason;
    private final int[] completion;
    /** Per choice, the prompt tokens it found in the prefix cache. */
    private final int[] cached;

    /** @param prefixes per choice, text that comes before the generated text (echo), or null */
    ChoiceResults(int choices, String[] prefixes) {
        text = new StringBuilder[choices];
        logprobs = new ArrayList<>(choices);
        promptLogprobs = new ArrayList<>(java.util.Collections.nCopies(choices, (List<TokenLogprob>) null));
        finish = new String[choices];
        stopReason = new Object[choices];
        completion = new int[choices];
        cached = new int[choices];
        for (int i = 0; i < choices; i++) {
            text[i] = new StringBuilder(prefixes == null ? "" : prefixes[i]);
            logprobs.add(new ArrayList<>());
        }
    }

    /** Records an event's token count and finish reason; keeps its text and log-probabilities only if asked. */
    void add(Choices.Event e, boolean keepContent) {
        int c = e.choice();
        completion[c] = e.output().completionTokens();
        cached[c] = e.output().cachedPromptTokens();
        if (e.output().finishReason() != null) finish[c] = e.output().finishReason().wire();
        if (e.output().stopReason() != null) stopReason[c] = e.output().stopReason().wire();
        if (keepContent) {
            text[c].append(e.output().text());
            logprobs.get(c).addAll(e.output().logprobs());
            if (e.output().promptLogprobs() != null) promptLogprobs.set(c, e.output().promptLogprobs());
        }
    }

    static ChoiceResults of(int choices, String[] prefixes, List<Choices.Event> events) {
        ChoiceResults r = new ChoiceResults(choices, prefixes);
        events.forEach(e -> r.add(e, true));
        return r;
    }

    int size() {
        return text.length;
    }

    String text(int choice) {
        return text[choice].toString();
    }

    List<TokenLogprob> logprobs(int choice) {
        return logprobs.get(choice);
    }

    /** The choice's prompt log-probabilities (see {@code RequestOutput.promptLogprobs}), or null. */
    List<TokenLogprob> promptLogprobs(int choice) {
        return promptLogprobs.get(choice);
    }

    String finishReason(int choice) {
        return finish[choice];
    }

    /** The stop string (a String) or stop token id (an Integer) that ended the choice, or null. */
    Object stopReason(int choice) {
        return stopReason[choice];
    }

    /** Completion tokens of one choice so far. */
    int completionTokens(int choice) {
        return completion[choice];
    }

    /**
     * Prompt tokens served from the prefix cache, counted like the prompt tokens, once per prompt:
     * for each prompt, the fewest any of its {@code n} choices found (choice {@code p * n + i} is
     * choice i of prompt p), so the count never claims more than every choice was spared.
     */
    int cachedPromptTokens(int n) {
        int total = 0;
        for (int p = 0; p < cached.length; p += n) {
            int fewest = Integer.MAX_VALUE;
            for (int i = p; i < p + n; i++) fewest = Math.min(fewest, cached[i]);
            total += fewest;
        }
        return total;
    }

    /**
     * The response's usage: {@code promptTokens} counted once per prompt, every choice's completion
     * tokens, and, when the server caches prefixes, the prompt tokens served from the cache.
     *
     * @param choicesPerPrompt n, or best_of's candidates: how many consecutive choices share a prompt
     */
    Usage usage(ServingModel model, int promptTokens, int choicesPerPrompt) {
        return Usage.of(promptTokens, completionTokens(),
                model.prefixCaching() ? cachedPromptTokens(choicesPerPrompt) : null);
    }

    /** Completion tokens of all choices together (the prompt is counted by the caller, once). */
    int completionTokens() {
        int total = 0;
        for (int c : completion) total += c;
        return total;
    }
}
