package dev.podserve.api;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.podserve.api.dto.CompletionRequest;
import dev.podserve.model.GenerationConfig;
import dev.podserve.sampling.SamplingParams;

/**
 * Builds {@link SamplingParams} from a request: given fields win, then the checkpoint's
 * {@code generation_config.json}, then OpenAI's defaults (temperature 1, top_p 1).
 */
final class SamplingMapper {

    /** OpenAI's default {@code max_tokens} for text completions. */
    static final int DEFAULT_COMPLETION_MAX_TOKENS = 16;

    private SamplingMapper() {
    }

    static SamplingParams fromCompletion(CompletionRequest r, GenerationConfig defaults) {
        SamplingParams.Builder b = SamplingParams.builder();
        b.temperature(r.temperature() != null ? r.temperature() : defaults.temperature().orElse(1.0));
        b.topP(r.topP() != null ? r.topP() : defaults.topP().orElse(1.0));
        b.topK(r.topK() != null ? r.topK() : defaults.topK().orElse(-1));
        if (r.minP() != null) b.minP(r.minP());
        b.repetitionPenalty(r.repetitionPenalty() != null ? r.repetitionPenalty() : defaults.repetitionPenalty().orElse(1.0));
        if (r.presencePenalty() != null) b.presencePenalty(r.presencePenalty());
        if (r.frequencyPenalty() != null) b.frequencyPenalty(r.frequencyPenalty());
        if (r.seed() != null) b.seed(r.seed());
        b.maxTokens(r.maxTokens() != null ? r.maxTokens() : DEFAULT_COMPLETION_MAX_TOKENS);
        if (r.minTokens() != null) b.minTokens(r.minTokens());
        if (r.ignoreEos() != null) b.ignoreEos(r.ignoreEos());
        if (r.logprobs() != null) b.logprobs(r.logprobs());
        b.stop(stopStrings(r.stop()));
        if (r.stopTokenIds() != null) b.stopTokenIds(r.stopTokenIds());
        if (r.logitBias() != null) b.logitBias(logitBias(r.logitBias()));
        return b.build();
    }

    static List<String> stopStrings(Object stop) {
        if (stop == null) return List.of();
        if (stop instanceof String s) return List.of(s);
        if (stop instanceof List<?> list) {
            List<String> out = new ArrayList<>();
            for (Object o : list) {
                if (!(o instanceof String s)) throw ApiException.badRequest("stop", "'stop' must be a string or a list of strings.");
                out.add(s);
            }
            return out;
        }
        throw ApiException.badRequest("stop", "'stop' must be a string or a list of strings.");
    }

    static Map<Integer, Double> logitBias(Map<String, Double> bias) {
        Map<Integer, Double> out = new LinkedHashMap<>();
        for (Map.Entry<String, Double> e : bias.entrySet()) {
            try {
                out.put(Integer.parseInt(e.getKey().trim()), e.getValue());
            } catch (NumberFormatException ex) {
                throw ApiException.badRequest("logit_bias", "'logit_bias' keys must be token ids; got '" + e.getKey() + "'.");
            }
            if (e.getValue() == null) throw ApiException.badRequest("logit_bias", "'logit_bias' values must be numbers.");
        }
        return out;
    }
}
