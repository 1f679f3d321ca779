package dev.podserve.sampling;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * How one request wants its tokens chosen. Field meanings and defaults follow OpenAI's API, with
 * vLLM's extensions ({@code top_k}, {@code min_p}, {@code repetition_penalty}, {@code min_tokens},
 * {@code stop_token_ids}, {@code ignore_eos}, {@code allowed_token_ids}, {@code bad_words}).
 *
 * <p>The record is immutable: collections are copied on construction. It is not validated on
 * construction, so the API layer can build it from whatever the client sent and then call
 * {@link #validate(int)} to turn a bad value into a 400 that names the field.
 *
 * @param topK {@value #TOP_K_DISABLED} (the default) or -1 disable top-k, as in vLLM
 * @param seed null draws a random seed per request
 * @param logprobs null: no alternatives reported; n: the n most likely tokens reported per step
 * @param maxTokens 0 computes the prompt only (for its log-probabilities, or an echo) and generates nothing
 * @param promptLogprobs null: none; n: each prompt token's log-probability given the tokens before
 *                  it, from the raw logits (no bias, penalties or masks: they concern what is
 *                  generated), with the n most likely tokens at that place
 * @param includeStopStrInOutput vLLM's: the stop string that ended the text is kept at its end (dropped by default)
 * @param allowedTokenIds null: every token may be generated; otherwise only these ids (vLLM's {@code allowed_token_ids})
 * @param badWordTokenIds vLLM's {@code bad_words}, already tokenized: each entry is one token sequence the
 *                  output may not complete ({@link WordBans}); empty for none
 */
public record SamplingParams(double temperature, double topP, int topK, double minP, Long seed,
                             double presencePenalty, double frequencyPenalty, double repetitionPenalty,
                             Map<Integer, Double> logitBias, Integer logprobs, int maxTokens, int minTokens,
                             List<String> stop, List<Integer> stopTokenIds, boolean ignoreEos, Integer promptLogprobs,
                             boolean includeStopStrInOutput, List<Integer> allowedTokenIds,
                             List<List<Integer>> badWordTokenIds) {

    /** Below this temperature sampling is greedy; dividing logits by it would overflow anyway. */
    public static final double GREEDY_TEMPERATURE = 1e-5;
    public static final int TOP_K_DISABLED = 0;
    public static final int MAX_LOGPROBS = 20;
    public static final int MAX_STOP_STRINGS = 4;
    public static final int DEFAULT_MAX_TOKENS = 16;

    public SamplingParams {
        // Nulls inside the collections are kept so that validate() can report them by field name.
        logitBias = logitBias == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(logitBias));
        stop = stop == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(stop));
        stopTokenIds = stopTokenIds == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(stopTokenIds));
        allowedTokenIds = allowedTokenIds == null ? null : Collections.unmodifiableList(new ArrayList<>(allowedTokenIds));
        if (badWordTokenIds == null) {
            badWordTokenIds = List.of();
        } else {
            List<List<Integer>> words = new ArrayList<>(badWordTokenIds.size());
            for (List<Integer> w : badWordTokenIds) words.add(w == null ? null : Collections.unmodifiableList(new ArrayList<>(w)));
            badWordTokenIds = Collections.unmodifiableList(words);
        }
    }

    public static Builder builder() {
        return new Builder();
    }

    public Builder toBuilder() {
        return new Builder(this);
    }

    public boolean greedy() {
        return temperature < GREEDY_TEMPERATURE;
    }

    public boolean topKEnabled() {
        return topK >= 1;
    }

    /**
     * Checks every field against the ranges OpenAI and vLLM accept.
     *
     * @param vocabSize number of token ids the model's logits cover; token ids must lie in [0, vocabSize)
     * @throws InvalidSamplingParamException naming the first offending field
     */
    public void validate(int vocabSize) {
        if (vocabSize < 1) throw new IllegalArgumentException("vocabSize must be at least 1, got " + vocabSize);
        requireIn("temperature", temperature, 0, true, 2, true);
        requireIn("top_p", topP, 0, false, 1, true);
        if (topK < -1) {
            throw new InvalidSamplingParamException("top_k",
                    "top_k must be -1 or 0 (disabled) or at least 1; got " + topK + ".");
        }
        requireIn("min_p", minP, 0, true, 1, true);
        requireIn("presence_penalty", presencePenalty, -2, true, 2, true);
        requireIn("frequency_penalty", frequencyPenalty, -2, true, 2, true);
        requireIn("repetition_penalty", repetitionPenalty, 0, false, 2, true);
        validateLogitBias(vocabSize);
        if (logprobs != null && (logprobs < 0 || logprobs > MAX_LOGPROBS)) {
            throw new InvalidSamplingParamException("logprobs",
                    "logprobs must be in the range [0, " + MAX_LOGPROBS + "]; got " + logprobs + ".");
        }
        if (promptLogprobs != null && (promptLogprobs < 0 || promptLogprobs > MAX_LOGPROBS)) {
            throw new InvalidSamplingParamException("prompt_logprobs",
                    "prompt_logprobs must be in the range [0, " + MAX_LOGPROBS + "]; got " + promptLogprobs + ".");
        }
        if (maxTokens < 0) {
            throw new InvalidSamplingParamException("max_tokens", "max_tokens must not be negative; got " + maxTokens + ".");
        }
        if (minTokens < 0 || minTokens > maxTokens) {
            throw new InvalidSamplingParamException("min_tokens", "min_tokens must be in the range [0, max_tokens="
                    + maxTokens + "]; got " + minTokens + ".");
        }
        validateStop();
        validateStopTokenIds(vocabSize);
        validateAllowedTokenIds(vocabSize);
        validateBadWords(vocabSize);
    }

    /** As vLLM: an empty list would leave nothing to generate, and every id must index the logits. */
    private void validateAllowedTokenIds(int vocabSize) {
        if (allowedTokenIds == null) return;
        if (allowedTokenIds.isEmpty()) {
            throw new InvalidSamplingParamException("allowed_token_ids", "allowed_token_ids must not be empty.");
        }
        for (Integer id : allowedTokenIds) {
            if (id == null || id < 0 || id >= vocabSize) {
                throw new InvalidSamplingParamException("allowed_token_ids", "allowed_token_ids entry " + id
                        + " is not a token id: token ids must be in the range [0, " + vocabSize + ").");
            }
        }
    }

    /** A word the tokenizer gave ids the logits do not cover could never be banned: refused, as in vLLM. */
    private void validateBadWords(int vocabSize) {
        for (List<Integer> word : badWordTokenIds) {
            if (word == null || word.isEmpty()) {
                throw new InvalidSamplingParamException("bad_words", "bad_words entries must tokenize to at least one token.");
            }
            for (Integer id : word) {
                if (id == null || id < 0 || id >= vocabSize) {
                    throw new InvalidSamplingParamException("bad_words", "bad_words tokenize to token id " + id
                            + ", outside the model's vocabulary [0, " + vocabSize + ").");
                }
            }
        }
    }

    private void validateLogitBias(int vocabSize) {
        for (Map.Entry<Integer, Double> e : logitBias.entrySet()) {
            Integer token = e.getKey();
            if (token == null || token < 0 || token >= vocabSize) {
                throw new InvalidSamplingParamException("logit_bias", "logit_bias key " + token
                        + " is not a token id: token ids must be in the range [0, " + vocabSize + ").");
            }
            Double bias = e.getValue();
            if (bias == null || !(bias >= -100 && bias <= 100)) {
                throw new InvalidSamplingParamException("logit_bias", "logit_bias value for token " + token
                        + " must be in the range [-100, 100]; got " + bias + ".");
            }
        }
    }

    private void validateStop() {
        if (stop.size() > MAX_STOP_STRINGS) {
            throw new InvalidSamplingParamException("stop",
                    "stop may hold at most " + MAX_STOP_STRINGS + " strings; got " + stop.size() + ".");
        }
        for (int i = 0; i < stop.size(); i++) {
            String s = stop.get(i);
            if (s == null || s.isEmpty()) {
                throw new InvalidSamplingParamException("stop",
                        "stop strings must be non-empty; entry " + i + " is " + (s == null ? "null" : "empty") + ".");
            }
        }
    }

    private void validateStopTokenIds(int vocabSize) {
        for (Integer id : stopTokenIds) {
            if (id == null || id < 0 || id >= vocabSize) {
                throw new InvalidSamplingParamException("stop_token_ids", "stop_token_ids entry " + id
                        + " is not a token id: token ids must be in the range [0, " + vocabSize + ").");
            }
        }
    }

    /** Written as a negated conjunction so that NaN fails every range. */
    private static void requireIn(String param, double value, double lo, boolean loInclusive,
                                  double hi, boolean hiInclusive) {
        boolean aboveLo = loInclusive ? value >= lo : value > lo;
        boolean belowHi = hiInclusive ? value <= hi : value < hi;
        if (!(aboveLo && belowHi)) {
            String range = (loInclusive ? "[" : "(") + format(lo) + ", " + format(hi) + (hiInclusive ? "]" : ")");
            throw new InvalidSamplingParamException(param,
                    param + " must be in the range " + range + "; got " + value + ".");
        }
    }

    private static String format(double bound) {
        return bound == Math.rint(bound) ? Long.toString((long) bound) : Double.toString(bound);
    }

    /** Starts from OpenAI's defaults; every setter returns the builder. */
    public static final class Builder {
        private double temperature = 1.0;
        private double topP = 1.0;
        private int topK = TOP_K_DISABLED;
        private double minP = 0.0;
        private Long seed;
        private double presencePenalty = 0.0;
        private double frequencyPenalty = 0.0;
        private double repetitionPenalty = 1.0;
        private Map<Integer, Double> logitBias = Map.of();
        private Integer logprobs;
        private int maxTokens = DEFAULT_MAX_TOKENS;
        private int minTokens = 0;
        private List<String> stop = List.of();
        private List<Integer> stopTokenIds = List.of();
        private boolean ignoreEos;
        private Integer promptLogprobs;
        private boolean includeStopStrInOutput;
        private List<Integer> allowedTokenIds;
        private List<List<Integer>> badWordTokenIds = List.of();

        private Builder() {
        }

        private Builder(SamplingParams p) {
            temperature = p.temperature;
            topP = p.topP;
            topK = p.topK;
            minP = p.minP;
            seed = p.seed;
            presencePenalty = p.presencePenalty;
            frequencyPenalty = p.frequencyPenalty;
            repetitionPenalty = p.repetitionPenalty;
            logitBias = p.logitBias;
            logprobs = p.logprobs;
            maxTokens = p.maxTokens;
            minTokens = p.minTokens;
            stop = p.stop;
            stopTokenIds = p.stopTokenIds;
            ignoreEos = p.ignoreEos;
            promptLogprobs = p.promptLogprobs;
            includeStopStrInOutput = p.includeStopStrInOutput;
            allowedTokenIds = p.allowedTokenIds;
            badWordTokenIds = p.badWordTokenIds;
        }

        public Builder temperature(double v) { temperature = v; return this; }
        public Builder topP(double v) { topP = v; return this; }
        public Builder topK(int v) { topK = v; return this; }
        public Builder minP(double v) { minP = v; return this; }
        public Builder seed(Long v) { seed = v; return this; }
        public Builder presencePenalty(double v) { presencePenalty = v; return this; }
        public Builder frequencyPenalty(double v) { frequencyPenalty = v; return this; }
        public Builder repetitionPenalty(double v) { repetitionPenalty = v; return this; }
        public Builder logitBias(Map<Integer, Double> v) { logitBias = v; return this; }
        public Builder logprobs(Integer v) { logprobs = v; return this; }
        public Builder maxTokens(int v) { maxTokens = v; return this; }
        public Builder minTokens(int v) { minTokens = v; return this; }
        public Builder stop(List<String> v) { stop = v; return this; }
        public Builder stopTokenIds(List<Integer> v) { stopTokenIds = v; return this; }
        public Builder ignoreEos(boolean v) { ignoreEos = v; return this; }
        public Builder promptLogprobs(Integer v) { promptLogprobs = v; return this; }
        public Builder includeStopStrInOutput(boolean v) { includeStopStrInOutput = v; return this; }
        public Builder allowedTokenIds(List<Integer> v) { allowedTokenIds = v; return this; }
        public Builder badWordTokenIds(List<List<Integer>> v) { badWordTokenIds = v; return this; }

        public SamplingParams build() {
            return new SamplingParams(temperature, topP, topK, minP, seed, presencePenalty, frequencyPenalty,
                    repetitionPenalty, logitBias, logprobs, maxTokens, minTokens, stop, stopTokenIds, ignoreEos,
                    promptLogprobs, includeStopStrInOutput, allowedTokenIds, badWordTokenIds);
        }
    }
}
