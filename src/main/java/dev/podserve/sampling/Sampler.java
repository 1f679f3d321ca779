package dev.podserve.sampling;

import java.util.Objects;

/**
 * Chooses one token from one logits row. Stateless and thread-safe: everything that belongs to a
 * request lives in its {@link SamplingState}, and scratch space is per thread.
 *
 * <p>Order of operations, each on a private copy of the logits (the caller's array is never
 * written):
 * <ol>
 *   <li>logit_bias is added;</li>
 *   <li>while fewer than min_tokens were produced, EOS and stop_token_ids are masked to -inf
 *       (ignore_eos masks nothing: EOS is sampled like any token and generation goes on);</li>
 *   <li>repetition penalty over prompt and output tokens, then frequency and presence penalties
 *       over output tokens;</li>
 *   <li>the bans that always hold: tokens a structured output's rule or {@code allowed_token_ids}
 *       leave out, and the tokens that would complete one of {@code bad_words} ({@link WordBans});</li>
 *   <li>log-probabilities are taken here, as log_softmax of this processed row;</li>
 *   <li>greedy (temperature below 1e-5): argmax, ties to the lowest id. Otherwise the row is
 *       divided by the temperature, cut by top-k, top-p and min-p, and one uniform number from the
 *       request's generator picks a token from what is left.</li>
 * </ol>
 *
 * <p>Why logprobs come before temperature and truncation: they then describe the model's
 * distribution as the request's own edits (bias, masks, penalties) shaped it, and do not depend on
 * how the sampler was told to explore it. Every token keeps a finite logprob unless the request
 * itself removed it, a greedy and a sampled run of the same request report the same numbers, and a
 * token kept out by top-k still gets its true rank in the top-N list. The cost is that the reported
 * value is not the probability with which the token was actually drawn.
 *
 * <p>If the masks remove every token (for example a vocabulary made only of EOS ids while
 * min_tokens is pending), the row is processed again without the masks: a request must still get
 * a token, and the masks are the only edit that can take all of them away. The bans that always hold
 * stay: where they leave nothing, the request fails rather than produce what its client ruled out.
 */
public final class Sampler {

    /** Most banned ids a {@link DeviceDraw} carries; a request banning more samples on the host. */
    public static final int MAX_DEVICE_BANNED = 8;

    public SampleResult sample(float[] logits, SamplingState state) {
        return sampleWith(logits, state, Double.NaN);
    }

    /**
     * As {@link #sample(float[], SamplingState)}, with the step's uniform number already taken from the
     * request's generator (a {@link DeviceDraw} the device handed back).
     */
    public SampleResult sample(float[] logits, SamplingState state, double uniform) {
        if (!(uniform >= 0 && uniform < 1)) {
            throw new IllegalArgumentException("uniform number " + uniform + " is outside [0, 1)");
        }
        return sampleWith(logits, state, uniform);
    }

    /** @param uniform the step's number, or NaN: take it from the request's generator if the draw needs one */
    private SampleResult sampleWith(float[] logits, SamplingState state, double uniform) {
        int n = state.vocabSize();
        if (logits.length != n) {
            throw new IllegalArgumentException("logits row has " + logits.length + " entries, but the request's vocabulary has " + n);
        }
        Workspace ws = Workspace.forVocabulary(n);
        float[] x = ws.logits;
        copyChecked(logits, x, n);
        LogitsProcessor.apply(x, state, true);
        float max = max(x, n);
        if (max == Float.NEGATIVE_INFINITY) {
            System.arraycopy(logits, 0, x, 0, n);
            LogitsProcessor.apply(x, state, false);
            max = max(x, n);
            if (max == Float.NEGATIVE_INFINITY) {
                throw new IllegalArgumentException(noTokenLeft(state));
            }
        }
        SamplingParams p = state.params();
        if (p.greedy() && p.logprobs() == null) {
            // Nobody reads this token's log-probability: skip the softmax, one exp per vocabulary
            // entry (128K of them a row for Llama 3, a millisecond).
            return SampleResult.withoutAlternatives(argmax(x, n), Float.NaN);
        }
        if (p.logprobs() == null && !p.greedy() && p.temperature() != 1.0) {
            // Nobody reads the log-probability, and below or above temperature 1 the draw computes
            // its own weights: the softmax pass over the row (an exp per entry) would be thrown away.
            int token = TruncatedDistribution.draw(x, n, max, p, uniform(state, uniform), ws);
            return SampleResult.withoutAlternatives(token, Float.NaN);
        }
        double logSumExp = Logprobs.logSumExp(x, n, max, ws.weights);

        int token = p.greedy()
                ? argmax(x, n)
                : TruncatedDistribution.draw(x, n, max, p, uniform(state, uniform), ws);
        float logprob = (float) (x[token] - logSumExp);
        return p.logprobs() == null
                ? SampleResult.withoutAlternatives(token, logprob)
                : Logprobs.withTop(token, logprob, x, n, logSumExp, p.logprobs());
    }

    /**
     * Scores a token that was given, not drawn: a prompt token's log-probability under the raw row
     * (log_softmax with no processing: a request's bias, penalties and masks concern what it
     * generates, not the text it was given) and the {@code top} most likely tokens at that place.
     */
    public SampleResult score(float[] logits, int token, int top) {
        int n = logits.length;
        Objects.checkIndex(token, n);
        Workspace ws = Workspace.forVocabulary(n);
        float[] x = ws.logits;
        copyChecked(logits, x, n);
        float max = max(x, n);
        if (max == Float.NEGATIVE_INFINITY) throw new IllegalArgumentException("every logit is -inf: the row scores nothing");
        double logSumExp = Logprobs.logSumExp(x, n, max, ws.weights);
        return Logprobs.withTop(token, (float) (x[token] - logSumExp), x, n, logSumExp, top);
    }

    /**
     * The rank of {@code token} in a row: how many entries are at least its logit, itself included
     * (1 for a clear argmax; equals share the lower place, as vLLM counts).
     */
    public static int rank(float[] logits, int token) {
        float own = logits[token];
        int rank = 0;
        for (float x : logits) if (x >= own) rank++;
        return rank;
    }

    /**
     * Whether this step's token for the request can come from the raw logits' argmax taken where the
     * logits are (a GPU): greedy, no logprobs asked, and a logits processing that at most bans tokens
     * (EOS and stop ids below {@code min_tokens}, a token mask, {@code bad_words}).
     * Banning a token other than the argmax leaves the argmax the largest and the lowest-indexed
     * among equals, so it is the token unless {@link #argmaxBanned} says it was banned; only then is
     * the row needed. A benchmark's {@code ignore_eos} requests are this case, with nothing banned.
     */
    public static boolean greedyFromArgmax(SamplingState state) {
        SamplingParams p = state.params();
        return p.greedy() && p.logprobs() == null && LogitsProcessor.onlyBans(state);
    }

    /**
     * This step's draw as numbers a device can evaluate where the logits are, or null when the
     * request's token must be picked on the host: greedy (see {@link #greedyFromArgmax}), logprobs asked,
     * a bias or a penalty, a token mask the device does not apply, or more than
     * {@link #MAX_DEVICE_BANNED} banned ids. When it returns a draw,
     * the request's uniform number for this step has been taken.
     */
    public static DeviceDraw deviceDraw(SamplingState state) {
        return deviceDraw(state, false);
    }

    /**
     * As {@link #deviceDraw(SamplingState)}; {@code masksOnDevice}: the device applies the request's
     * token mask (structured output, allowed_token_ids) before it draws, so a masked request may be
     * drawn there too. The draw's banned ids are the rest: EOS and stop ids below min_tokens, and the
     * ids bad_words ban at this step.
     */
    public static DeviceDraw deviceDraw(SamplingState state, boolean masksOnDevice) {
        SamplingParams p = state.params();
        if (p.greedy() || p.logprobs() != null || !LogitsProcessor.onlyBans(state) || (state.masked() && !masksOnDevice)) return null;
        int[] banned = LogitsProcessor.banned(state);
        if (banned.length > MAX_DEVICE_BANNED) return null;
        // The same "on" test as TruncatedDistribution.draw: a top_k of the vocabulary or more keeps everything.
        int topK = p.topK() >= 1 && p.topK() < state.vocabSize() ? p.topK() : 0;
        return new DeviceDraw(1.0 / p.temperature(), p.minP(), topK, p.topP(), state.nextUniform(), banned);
    }

    /** Why a row has no token to give: the client's rules together leave none, or the model's row has none. */
    private static String noTokenLeft(SamplingState state) {
        java.util.List<String> rules = new java.util.ArrayList<>();
        if (state.constrained()) rules.add("the response format");
        if (state.params().allowedTokenIds() != null) rules.add("allowed_token_ids");
        if (state.hasWordBans()) rules.add("bad_words");
        if (rules.isEmpty()) return "every logit is -inf: there is no token to sample";
        return String.join(" and ", rules) + (rules.size() > 1 ? " together allow" : " allows")
                + " no token the model can produce here";
    }

    private static double uniform(SamplingState state, double given) {
        return Double.isNaN(given) ? state.nextUniform() : given;
    }

    /** For a {@link #greedyFromArgmax} request: whether this step bans {@code token}, so the argmax cannot stand. */
    public static boolean argmaxBanned(SamplingState state, int token) {
        return LogitsProcessor.bans(state, token);
    }

    /**
     * Index of the largest entry, the lowest index among equal maxima; NaN entries never win.
     *
     * @throws IllegalArgumentException the array is empty or holds only NaN
     */
    public static int argmax(float[] logits) {
        return argmax(logits, logits.length);
    }

    static int argmax(float[] x, int n) {
        int best = -1;
        float bestValue = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            // Strict comparison keeps the first of equal maxima; the best < 0 case admits an all -inf row.
            if (x[i] > bestValue || (best < 0 && x[i] == Float.NEGATIVE_INFINITY)) {
                best = i;
                bestValue = x[i];
            }
        }
        if (best < 0) throw new IllegalArgumentException("argmax of an empty or all-NaN row");
        return best;
    }

    /** The model's output is trusted to be -inf or finite; NaN or +inf means a broken forward pass. */
    private static void copyChecked(float[] from, float[] to, int n) {
        for (int i = 0; i < n; i++) {
            float v = from[i];
            if (Float.isNaN(v) || v == Float.POSITIVE_INFINITY) {
                throw new IllegalArgumentException("logit of token " + i + " is " + v + "; expected a finite value or -inf");
            }
            to[i] = v;
        }
    }

    private static float max(float[] x, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            if (x[i] > max) max = x[i];
        }
        return max;
    }
}
