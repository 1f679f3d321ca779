package dev.podserve.api;

import java.util.List;

import dev.podserve.api.dto.SamplingFields;
import dev.podserve.config.PodserveProperties;

/**
 * {@code podserve.security.limits}: how much one request may ask for. Each check is a 400 naming
 * the field, made before the work it bounds (counts before tokenizing, prompt length before
 * queueing), so an oversized request costs little.
 */
final class RequestLimits {

    private final PodserveProperties.Limits limits;

    RequestLimits(PodserveProperties props) {
        this.limits = props.security().limits();
    }

    /** {@code n}, {@code stop} and {@code logit_bias}: counts only, so before anything is parsed further. */
    void checkCounts(SamplingFields body) {
        if (body.n() != null && body.n() > limits.maxN()) {
            throw ApiException.badRequest("n", "n may be at most " + limits.maxN() + "; got " + body.n() + ".");
        }
        if (body.stop() instanceof List<?> stops && stops.size() > limits.maxStopStrings()) {
            throw ApiException.badRequest("stop", "stop may hold at most " + limits.maxStopStrings() + " strings; got "
                    + stops.size() + ".");
        }
        if (body.logitBias() != null && body.logitBias().size() > limits.maxLogitBias()) {
            throw ApiException.badRequest("logit_bias", "logit_bias may hold at most " + limits.maxLogitBias()
                    + " entries; got " + body.logitBias().size() + ".");
        }
    }

    /** {@code best_of} runs that many candidates a prompt: bounded as {@code n} is. */
    void checkBestOf(Integer bestOf) {
        if (bestOf != null && bestOf > limits.maxN()) {
            throw ApiException.badRequest("best_of", "best_of may be at most " + limits.maxN() + "; got " + bestOf + ".");
        }
    }

    /** How many prompts one text completion request may carry. */
    void checkPromptCount(Object prompt) {
        if (prompt instanceof List<?> list && !list.isEmpty() && !(list.get(0) instanceof Number)
                && list.size() > limits.maxPrompts()) {
            throw ApiException.badRequest("prompt", "prompt may hold at most " + limits.maxPrompts() + " prompts; got "
                    + list.size() + ".");
        }
    }

    void checkPromptTokens(int tokens, String param) {
        if (limits.maxPromptTokens() > 0 && tokens > limits.maxPromptTokens()) {
            throw ApiException.badRequest(param, "The prompt has " + tokens + " tokens; this server accepts at most "
                    + limits.maxPromptTokens() + ".");
        }
    }

    /**
     * The {@code max_tokens} to use: the one given, refused above the limit, or when none is given
     * {@code fallback} lowered to the limit.
     */
    int maxTokens(Integer given, int fallback) {
        int cap = limits.maxTokens();
        if (given != null) {
            if (cap > 0 && given > cap) {
                throw ApiException.badRequest("max_tokens", "max_tokens may be at most " + cap + "; got " + given + ".");
            }
            return given;
        }
        return cap > 0 ? Math.min(cap, fallback) : fallback;
    }
}
