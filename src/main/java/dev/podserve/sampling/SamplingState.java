package dev.podserve.sampling;

import java.util.Arrays;
import java.util.BitSet;
import java.util.SplittableRandom;

/**
 * What the sampler must remember about one request between steps: its random stream, the tokens it
 * has produced (for the penalties and {@code min_tokens}) and the tokens of its prompt (for the
 * repetition penalty). Owned by the engine thread; not thread-safe.
 *
 * <p>Each request has its own generator, seeded from {@code params.seed()} when given, so a seeded
 * request draws the same numbers whatever else shares its batches and whenever it is scheduled.
 */
public final class SamplingState {

    private final SamplingParams params;
    private final int vocabSize;
    private final int[] eosTokenIds;
    private final int[] stopTokenIds;
    private final SplittableRandom random;
    /** Only kept when a frequency or presence penalty is set. */
    private final TokenCounts outputCounts;
    /** Prompt and output tokens; only kept when a repetition penalty is set. */
    private final BitSet seenTokens;
    private int numOutputTokens;

    /**
     * @param params         validated parameters of the request
     * @param promptTokenIds the prompt; ids outside the vocabulary are ignored
     * @param eosTokenIds    the model's end-of-sequence ids; ids outside the vocabulary are ignored
     *                       because the logits cannot produce them, so there is nothing to mask
     * @param vocabSize      length of the logits rows the sampler will receive
     */
    public SamplingState(SamplingParams params, int[] promptTokenIds, int[] eosTokenIds, int vocabSize) {
        if (vocabSize < 1) throw new IllegalArgumentException("vocabSize must be at least 1, got " + vocabSize);
        this.params = params;
        this.vocabSize = vocabSize;
        this.eosTokenIds = inVocabulary(eosTokenIds, vocabSize);
        this.stopTokenIds = inVocabulary(params.stopTokenIds().stream().mapToInt(Integer::intValue).toArray(), vocabSize);
        this.random = params.seed() != null ? new SplittableRandom(params.seed()) : new SplittableRandom();
        this.outputCounts = params.frequencyPenalty() != 0 || params.presencePenalty() != 0 ? new TokenCounts() : null;
        if (params.repetitionPenalty() != 1.0) {
            seenTokens = new BitSet(vocabSize);
            for (int token : promptTokenIds) {
                if (token >= 0 && token < vocabSize) seenTokens.set(token);
            }
        } else {
            seenTokens = null;
        }
    }

    /** Records a token the engine appended to this request's output. */
    public void accept(int token) {
        if (token < 0 || token >= vocabSize) {
            throw new IllegalArgumentException("token " + token + " is outside the vocabulary [0, " + vocabSize + ")");
        }
        numOutputTokens++;
        if (outputCounts != null) outputCounts.increment(token);
        if (seenTokens != null) seenTokens.set(token);
    }

    public int numOutputTokens() {
        return numOutputTokens;
    }

    public SamplingParams params() {
        return params;
    }

    public int vocabSize() {
        return vocabSize;
    }

    int[] eosTokenIds() {
        return eosTokenIds;
    }

    int[] stopTokenIds() {
        return stopTokenIds;
    }

    TokenCounts outputCounts() {
        return outputCounts;
    }

    BitSet seenTokens() {
        return seenTokens;
    }

    /** The one uniform number in [0, 1) that a non-greedy step consumes. */
    double nextUniform() {
        return random.nextDouble();
    }

    private static int[] inVocabulary(int[] ids, int vocabSize) {
        return Arrays.stream(ids).filter(id -> id >= 0 && id < vocabSize).distinct().sorted().toArray();
    }
}
