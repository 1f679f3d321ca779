package dev.podserve.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import java.util.Set;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The sampling defaults a checkpoint ships in {@code generation_config.json}. Fields absent there
 * stay empty, so the API falls back to OpenAI's defaults.
 *
 * @param maxNewTokens a chat request's length when it sets none (still within the context), as vLLM
 *                     takes {@code max_new_tokens}
 */
public record GenerationConfig(int[] eosTokenIds, OptionalDouble temperature, OptionalDouble topP,
                               OptionalInt topK, OptionalDouble repetitionPenalty, OptionalDouble minP,
                               OptionalInt maxNewTokens) {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    public static GenerationConfig empty() {
        return new GenerationConfig(new int[0], OptionalDouble.empty(), OptionalDouble.empty(),
                OptionalInt.empty(), OptionalDouble.empty(), OptionalDouble.empty(), OptionalInt.empty());
    }

    public static GenerationConfig load(Path file) throws IOException {
        return Files.isRegularFile(file) ? parse(Files.readString(file)) : empty();
    }

    public static GenerationConfig parse(String json) {
        JsonNode n;
        try {
            n = JSON.readTree(json);
        } catch (tools.jackson.core.JacksonException e) {
            throw new IllegalArgumentException("generation_config.json: is not valid JSON: " + e.getOriginalMessage());
        }
        if (n == null || !n.isObject()) throw new IllegalArgumentException("generation_config.json: is not a JSON object");
        return new GenerationConfig(ModelConfig.ids(n.get("eos_token_id"), "generation_config.json"),
                n.hasNonNull("temperature") ? OptionalDouble.of(n.get("temperature").asDouble()) : OptionalDouble.empty(),
                n.hasNonNull("top_p") ? OptionalDouble.of(n.get("top_p").asDouble()) : OptionalDouble.empty(),
                n.hasNonNull("top_k") ? OptionalInt.of(n.get("top_k").asInt()) : OptionalInt.empty(),
                n.hasNonNull("repetition_penalty") ? OptionalDouble.of(n.get("repetition_penalty").asDouble()) : OptionalDouble.empty(),
                n.hasNonNull("min_p") ? OptionalDouble.of(n.get("min_p").asDouble()) : OptionalDouble.empty(),
                maxNewTokens(n.get("max_new_tokens")));
    }

    private static OptionalInt maxNewTokens(JsonNode n) {
        if (n == null || n.isNull()) return OptionalInt.empty();
        if (!n.isIntegralNumber() || n.asLong() < 1 || n.asLong() > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("generation_config.json: max_new_tokens must be a positive integer; got " + n);
        }
        return OptionalInt.of(n.asInt());
    }

    /** EOS ids from both config files: a generation stops at any of them. */
    public int[] eosIdsWith(ModelConfig config) {
        return eosIdsWith(config, java.util.OptionalInt.empty());
    }

    /**
     * ... and the tokenizer's own EOS token, as vLLM stops on it too: a ChatML fine-tune of another
     * base often names {@code <|im_end|>} there while both config files keep the base's {@code </s>}.
     */
    public int[] eosIdsWith(ModelConfig config, java.util.OptionalInt tokenizerEos) {
        Set<Integer> ids = new LinkedHashSet<>();
        Arrays.stream(config.eosTokenIds()).forEach(ids::add);
        Arrays.stream(eosTokenIds).forEach(ids::add);
        tokenizerEos.ifPresent(ids::add);
        return ids.stream().mapToInt(Integer::intValue).toArray();
    }
}
