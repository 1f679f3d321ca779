package dev.podserve.sampling;

import java.util.Arrays;
import java.util.BitSet;
import java.util.SplittableRandom;

/**
 * What the sampler must remember about one request between steps: its random stream, the tokens it
 * has produced (for the penalties, {@code min_tokens} and {@code bad_words}) and the tokens of its
 * prompt (for the repetition penalty). Owned by the engine thread; not thread-safe.
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
    /** The structured output's rule, or null when the request has none. */
    private TokenConstraint constraint;
    /** [ceil(vocabSize / 64)]: the tokens the constraint allows after {@link #allowedAt} output tokens. */
    private long[] allowed;
    private int allowedAt = -1;
    /** [ceil(vocabSize / 64)]: {@code allowed_token_ids} as bits; null when the request has none. */
    private final long[] allowedIds;
    /** The request's {@code bad_words}, or null. */
    private final WordBans wordBans;
    /** The output so far, kept only when a bad word is longer than one token (its prefix is matched against it). */
    private int[] output;
    /** {@link #wordBans}' ids for the step after {@link #bannedAt} output tokens. */
    private int[] banned;
    private int bannedAt = -1;

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
        this.allowedIds = params.allowedTokenIds() == null ? null : bits(params.allowedTokenIds(), vocabSize);
        this.wordBans = WordBans.of(params.badWordTokenIds());
        this.output = wordBans != null && wordBans.lookBack() > 0 ? new int[16] : null;
    }

    /** Records a token the engine appended to this request's output. */
    public void accept(int token) {
        if (token < 0 || token >= vocabSize) {
            throw new IllegalArgumentException("token " + token + " is outside the vocabulary [0, " + vocabSize + ")");
        }
        if (constraint != null) constraint.accept(token);
        if (output != null) {
            if (numOutputTokens == output.length) output = Arrays.copyOf(output, output.length * 2);
            output[numOutputTokens] = token;
        }
        numOutputTokens++;
        if (outputCounts != null) outputCounts.increment(token);
        if (seenTokens != null) seenTokens.set(token);
    }

    /** Puts the request's output under {@code rule} from its first token on. */
    public void constrain(TokenConstraint rule) {
        if (numOutputTokens > 0) throw new IllegalStateException("a constraint must be set before the first output token");
        this.constraint = rule;
    }

    /** Whether the constraint restricts the next token (see {@link TokenConstraint#restrictsNext}). */
    public boolean constrained() {
        return constraint != null && constraint.restrictsNext();
    }

    /**
     * Whether the next token is restricted to a set of tokens ({@link #allowedTokenMask}): by the
     * constraint, by {@code allowed_token_ids}, or both.
     */
    public boolean masked() {
        return allowedIds != null || constrained();
    }

    /** Whether the constraint says the output is complete: nothing may follow but the end. */
    public boolean outputComplete() {
        return constraint != null && constraint.complete();
    }

    /**
     * The tokens allowed next (the constraint's, within {@code allowed_token_ids}), worked out if not
     * done since the last token: the engine calls it on a worker while the step's forward pass runs
     * (the sampler then finds it done), and hands the result to a device that masks. The array is
     * reused from step to step and must not be written.
     */
    public long[] allowedTokenMask() {
        return allowedTokens();
    }

    /**
     * [ceil(vocabSize / 64)] bit words, or null where nothing restricts the next token (see
     * {@link #masked}); bits as {@link TokenConstraint#allowedTokens} sets them.
     */
    long[] allowedTokens() {
        if (!constrained()) return allowedIds;
        if (allowedAt != numOutputTokens) {
            if (allowed == null) allowed = new long[(vocabSize + 63) / 64];
            constraint.allowedTokens(allowed);
            // Both rules hold: a token must be one the grammar allows and one the client listed.
            if (allowedIds != null) {
                for (int w = 0; w < allowed.length; w++) allowed[w] &= allowedIds[w];
            }
            allowedAt = numOutputTokens;
        }
        return allowed;
    }

    /** Whether {@code bad_words} are set (their bans change from step to step with the output). */
    boolean hasWordBans() {
        return wordBans != null;
    }

    /**
     * The ids {@code bad_words} ban at this step, sorted and distinct; empty when none. Worked out once
     * per step; the array must not be written.
     */
    int[] wordBans() {
        if (wordBans == null) return NONE;
        if (bannedAt != numOutputTokens) {
            banned = wordBans.after(output, numOutputTokens);
            bannedAt = numOutputTokens;
        }
        return banned;
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

    private static final int[] NONE = new int[0];

    private static long[] bits(java.util.List<Integer> ids, int vocabSize) {
        long[] words = new long[(vocabSize + 63) / 64];
        for (int id : ids) {
            if (id < 0 || id >= vocabSize) throw new IllegalArgumentException("allowed token id " + id + " is outside the vocabulary");
            words[id >>> 6] |= 1L << id;
        }
        return words;
    }

    private static int[] inVocabulary(int[] ids, int vocabSize) {
        return Arrays.stream(ids).filter(id -> id >= 0 && id < vocabSize).distinct().sorted().toArray();
    }
}
