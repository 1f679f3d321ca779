package dev.podserve.engine;

import dev.podserve.sampling.SamplingParams;
import dev.podserve.structured.OutputGrammar;

/**
 * One sequence to generate. {@code n > 1} in the API becomes several of these.
 *
 * @param promptTokenIds     the prompt, already tokenized (chat template applied)
 * @param skipSpecialTokens  leave special tokens out of the streamed text
 * @param deadlines          when it must start and finish; {@link Deadlines#NONE} for no limits
 * @param cacheSalt          shares cached KV pages only with requests of the same salt; null: with every unsalted one
 * @param grammar            what the output must be (a structured output); null: free text
 * @param priority           lower is served earlier under the priority scheduling policy; must be 0 under FCFS
 */
public record GenerationRequest(String requestId, int[] promptTokenIds, SamplingParams params, boolean skipSpecialTokens,
                                Deadlines deadlines, String cacheSalt, OutputGrammar grammar, int priority) {

    public GenerationRequest {
        if (deadlines == null) deadlines = Deadlines.NONE;
    }

    public GenerationRequest(String requestId, int[] promptTokenIds, SamplingParams params, boolean skipSpecialTokens,
                             Deadlines deadlines, String cacheSalt, OutputGrammar grammar) {
        this(requestId, promptTokenIds, params, skipSpecialTokens, deadlines, cacheSalt, grammar, 0);
    }

    public GenerationRequest(String requestId, int[] promptTokenIds, SamplingParams params, boolean skipSpecialTokens,
                             Deadlines deadlines, String cacheSalt) {
        this(requestId, promptTokenIds, params, skipSpecialTokens, deadlines, cacheSalt, null);
    }

    public GenerationRequest(String requestId, int[] promptTokenIds, SamplingParams params, boolean skipSpecialTokens,
                             Deadlines deadlines) {
        this(requestId, promptTokenIds, params, skipSpecialTokens, deadlines, null);
    }

    public GenerationRequest(String requestId, int[] promptTokenIds, SamplingParams params, boolean skipSpecialTokens) {
        this(requestId, promptTokenIds, params, skipSpecialTokens, Deadlines.NONE);
    }

    public GenerationRequest(String requestId, int[] promptTokenIds, SamplingParams params) {
        this(requestId, promptTokenIds, params, true);
    }

    public GenerationRequest withCacheSalt(String salt) {
        return new GenerationRequest(requestId, promptTokenIds, params, skipSpecialTokens, deadlines, salt, grammar, priority);
    }

    public GenerationRequest withDeadlines(Deadlines d) {
        return new GenerationRequest(requestId, promptTokenIds, params, skipSpecialTokens, d, cacheSalt, grammar, priority);
    }

    public GenerationRequest withGrammar(OutputGrammar g) {
        return new GenerationRequest(requestId, promptTokenIds, params, skipSpecialTokens, deadlines, cacheSalt, g, priority);
    }

    public GenerationRequest withPriority(int p) {
        return new GenerationRequest(requestId, promptTokenIds, params, skipSpecialTokens, deadlines, cacheSalt, grammar, p);
    }
}
