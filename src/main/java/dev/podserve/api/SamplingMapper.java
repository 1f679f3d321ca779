package dev.podserve.api;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import dev.podserve.api.dto.SamplingFields;
import dev.podserve.model.GenerationConfig;
import dev.podserve.sampling.SamplingParams;

/**
 * Builds {@link SamplingParams} from a request: given fields win, then the checkpoint's
 * {@code generation_config.json}, then OpenAI's defaults (temperature 1, top_p 1). Range checks
 * are {@link SamplingParams#validate}'s; this only checks shapes JSON binding cannot.
 */
final class SamplingMapper {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(SamplingMapper.class);

    private SamplingMapper() {
    }

    /**
     * @param maxTokens the request's token limit, already resolved (chat and text differ in defaults)
     * @param logprobs  top-N alternatives to report, or null for none
     * @param encode    the model's tokenizer without special tokens added, for {@code bad_words}
     */
    static SamplingParams from(SamplingFields r, int maxTokens, Integer logprobs, GenerationConfig defaults,
                               Function<String, int[]> encode) {
        if (r.unknownFields() != null && !r.unknownFields().isEmpty() && log.isDebugEnabled()) {
            log.debug("ignoring unknown request fields {}", r.unknownFields().keySet());
        }
        SamplingParams.Builder b = SamplingParams.builder();
        b.temperature(r.temperature() != null ? r.temperature() : defaults.temperature().orElse(1.0));
        b.topP(r.topP() != null ? r.topP() : defaults.topP().orElse(1.0));
        b.topK(r.topK() != null ? r.topK() : defaults.topK().orElse(-1));
        b.minP(r.minP() != null ? r.minP() : defaults.minP().orElse(0.0));
        b.repetitionPenalty(r.repetitionPenalty() != null ? r.repetitionPenalty() : defaults.repetitionPenalty().orElse(1.0));
        if (r.presencePenalty() != null) b.presencePenalty(r.presencePenalty());
        if (r.frequencyPenalty() != null) b.frequencyPenalty(r.frequencyPenalty());
        if (r.seed() != null) b.seed(r.seed());
        b.maxTokens(maxTokens);
        if (r.minTokens() != null) b.minTokens(r.minTokens());
        if (r.ignoreEos() != null) b.ignoreEos(r.ignoreEos());
        if (r.includeStopStrInOutput() != null) b.includeStopStrInOutput(r.includeStopStrInOutput());
        if (logprobs != null) b.logprobs(logprobs);
        if (r.promptLogprobs() != null) {
            // As in vLLM: the prompt's scores come whole, with the response, not as a stream.
            if (Boolean.TRUE.equals(r.stream())) {
                throw ApiException.badRequest("prompt_logprobs", "prompt_logprobs is not available when stream is true.");
            }
            b.promptLogprobs(r.promptLogprobs());
        }
        b.stop(stopStrings(r.stop()));
        if (r.stopTokenIds() != null) b.stopTokenIds(r.stopTokenIds());
        if (r.logitBias() != null) b.logitBias(logitBias(r.logitBias()));
        // Checked against the vocabulary with the other fields (SamplingParams.validate).
        if (r.allowedTokenIds() != null) b.allowedTokenIds(r.allowedTokenIds());
        b.badWordTokenIds(BadWordTokens.of(r.badWords(), encode));
        return b.build();
    }

    /** Choice i of a seeded request draws from its own seed, so the n choices differ but reproduce. */
    static SamplingParams forChoice(SamplingParams p, int choice) {
        return choice == 0 || p.seed() == null ? p : p.toBuilder().seed(p.seed() + choice).build();
    }

    /** {@code n}, checked: at least 1. */
    static int choices(SamplingFields r) {
        int n = r.n() == null ? 1 : r.n();
        if (n < 1) throw ApiException.badRequest("n", "n must be at least 1; got " + n + ".");
        return n;
    }

    static List<String> stopStrings(Object stop) {
        if (stop == null) return List.of();
        if (stop instanceof String s) return List.of(s);
        if (stop instanceof List<?> list) {
            List<String> out = new ArrayList<>();
            for (Object o : list) {
                if (!(o instanceof String s)) throw ApiException.badRequest("stop", "stop must be a string or a list of strings.");
                out.add(s);
            }
            return out;
        }
        throw ApiException.badRequest("stop", "stop must be a string or a list of strings.");
    }

    static Map<Integer, Double> logitBias(Map<String, Double> bias) {
        Map<Integer, Double> out = new LinkedHashMap<>();
        for (Map.Entry<String, Double> e : bias.entrySet()) {
            if (e.getValue() == null) throw ApiException.badRequest("logit_bias", "logit_bias values must be numbers.");
            try {
                out.put(Integer.parseInt(e.getKey().trim()), e.getValue());
            } catch (NumberFormatException ex) {
                throw ApiException.badRequest("logit_bias", "logit_bias keys must be token ids; got '" + e.getKey() + "'.");
            }
        }
        return out;
    }
}
