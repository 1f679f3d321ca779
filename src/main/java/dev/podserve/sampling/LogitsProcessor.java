package dev.podserve.sampling;

import java.util.BitSet;
import java.util.Map;

/**
 * The request-specific edits to a logits row that come before the distribution is shaped: logit
 * bias, the EOS / stop-token masks, the repetition, frequency and presence penalties, and the bans
 * that always hold (a structured output's rule, {@code allowed_token_ids}, {@code bad_words}). Works
 * in place on the sampler's scratch copy.
 */
final class LogitsProcessor {

    private LogitsProcessor() {
    }

    /**
     * @param withMasks false only for the fallback when the masks left no token at all
     */
    static void apply(float[] x, SamplingState state, boolean withMasks) {
        SamplingParams p = state.params();
        addBias(x, p.logitBias());
        if (withMasks) mask(x, state);
        if (state.seenTokens() != null) applyRepetitionPenalty(x, state.seenTokens(), p.repetitionPenalty());
        if (state.outputCounts() != null) {
            applyFrequencyAndPresence(x, state.outputCounts(), p.frequencyPenalty(), p.presencePenalty());
        }
        // The structured output's rule, allowed_token_ids and bad_words are never lifted: they are the
        // client's word on what may appear. Where they allow only the end while min_tokens bans it, the
        // fallback without the other masks gives the end.
        long[] allowed = state.allowedTokens();
        if (allowed != null) keepAllowed(x, allowed);
        for (int token : state.wordBans()) x[token] = Float.NEGATIVE_INFINITY;
    }

    /** Sets to -inf every entry whose bit in {@code allowed} is clear. */
    private static void keepAllowed(float[] x, long[] allowed) {
        for (int w = 0; w < allowed.length; w++) {
            long bits = allowed[w];
            if (bits == -1L) continue;
            int base = w << 6;
            int end = Math.min(x.length, base + 64);
            for (int t = base; t < end; t++) {
                if ((bits & (1L << t)) == 0) x[t] = Float.NEGATIVE_INFINITY;
            }
        }
    }

    /**
     * Whether {@link #apply} can at most ban tokens at this step (the EOS and stop-token masks, a
     * structured output's rule, allowed_token_ids, bad_words; no bias, no penalty): a greedy pick is
     * then the raw row's argmax unless {@link #bans} that token.
     */
    static boolean onlyBans(SamplingState state) {
        return state.params().logitBias().isEmpty() && state.seenTokens() == null && state.outputCounts() == null;
    }

    /** Whether {@link #apply} sets {@code token} to -inf at this step (the same rules as {@link #mask} and the bans after it). */
    static boolean bans(SamplingState state, int token) {
        SamplingParams p = state.params();
        long[] allowed = state.allowedTokens();
        if (allowed != null && (allowed[token >>> 6] & (1L << token)) == 0) return true;
        if (java.util.Arrays.binarySearch(state.wordBans(), token) >= 0) return true;
        boolean belowMin = state.numOutputTokens() < p.minTokens();
        return belowMin && (contains(state.eosTokenIds(), token) || contains(state.stopTokenIds(), token));
    }

    /**
     * The ids {@link #apply} sets to -inf at this step, each once: {@link #mask}'s and bad_words'. Not
     * the ones a token mask leaves out ({@link SamplingState#allowedTokenMask}), which go as a mask.
     */
    static int[] banned(SamplingState state) {
        SamplingParams p = state.params();
        boolean belowMin = state.numOutputTokens() < p.minTokens();
        int[] words = state.wordBans();
        if (!belowMin) return words.clone();
        return java.util.stream.IntStream.concat(java.util.stream.IntStream.concat(java.util.Arrays.stream(state.eosTokenIds()),
                        java.util.Arrays.stream(state.stopTokenIds())), java.util.Arrays.stream(words))
                .distinct().toArray();
    }

    private static boolean contains(int[] ids, int token) {
        for (int id : ids) {
            if (id == token) return true;
        }
        return false;
    }

    private static void addBias(float[] x, Map<Integer, Double> bias) {
        for (Map.Entry<Integer, Double> e : bias.entrySet()) {
            int token = e.getKey();
            x[token] = (float) (x[token] + e.getValue());
        }
    }

    /**
     * Below min_tokens every way of ending (EOS and stop_token_ids) is masked. ignore_eos masks
     * nothing: as in vLLM, EOS may still be sampled and generation simply goes on past it, so the
     * distribution (and a greedy continuation) is the model's own.
     */
    private static void mask(float[] x, SamplingState state) {
        if (state.numOutputTokens() >= state.params().minTokens()) return;
        for (int token : state.eosTokenIds()) x[token] = Float.NEGATIVE_INFINITY;
        for (int token : state.stopTokenIds()) x[token] = Float.NEGATIVE_INFINITY;
    }

    /**
     * HF / vLLM semantics: dividing a positive logit and multiplying a negative one both move the
     * token towards less likely when the penalty is above 1, whatever the logit's sign.
     */
    private static void applyRepetitionPenalty(float[] x, BitSet seen, double penalty) {
        for (int token = seen.nextSetBit(0); token >= 0; token = seen.nextSetBit(token + 1)) {
            double v = x[token];
            // A penalty close to 0 can push a large positive logit past float range; keep it finite so
            // the distribution stays well defined (that token simply dominates).
            x[token] = v > 0 ? (float) Math.min(v / penalty, Float.MAX_VALUE) : (float) (v * penalty);
        }
    }

    /** OpenAI semantics: logit -= count * frequency_penalty + (count > 0) * presence_penalty. */
    private static void applyFrequencyAndPresence(float[] x, TokenCounts counts, double frequency, double presence) {
        counts.forEach((token, count) -> x[token] = (float) (x[token] - (count * frequency + presence)));
    }
}
