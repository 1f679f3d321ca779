package dev.podserve.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The shape of a Llama-family decoder, as a HuggingFace {@code config.json} describes it.
 * Later architectures (Mistral's sliding window, Qwen2's biases, rope scaling) extend this record.
 */
public record ModelConfig(
        String architecture,
        int vocabSize,
        int hiddenSize,
        int intermediateSize,
        int numLayers,
        int numHeads,
        int numKvHeads,
        int headDim,
        float rmsNormEps,
        double ropeTheta,
        int maxPositionEmbeddings,
        boolean tieWordEmbeddings,
        int bosTokenId,
        int[] eosTokenIds) {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    public ModelConfig {
        check(vocabSize > 0, "vocab_size must be positive");
        check(hiddenSize > 0 && intermediateSize > 0 && numLayers > 0, "hidden_size, intermediate_size and num_hidden_layers must be positive");
        check(numHeads > 0 && numKvHeads > 0 && numHeads % numKvHeads == 0,
                "num_attention_heads (" + numHeads + ") must be a positive multiple of num_key_value_heads (" + numKvHeads + ")");
        check(headDim > 0 && headDim % 2 == 0, "head_dim must be positive and even (rotary pairs)");
        check(maxPositionEmbeddings > 0, "max_position_embeddings must be positive");
        check(rmsNormEps > 0, "rms_norm_eps must be positive");
        check(ropeTheta > 0, "rope_theta must be positive");
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException("config.json: " + message);
    }

    public int qDim() {
        return numHeads * headDim;
    }

    public int kvDim() {
        return numKvHeads * headDim;
    }

    /** Query heads that share one KV head. */
    public int groupSize() {
        return numHeads / numKvHeads;
    }

    /** Parameters (embedding counted once when tied). */
    public long parameterCount() {
        long h = hiddenSize;
        long perLayer = 2 * h + h * qDim() * 2L + h * kvDim() * 2L + 3L * h * intermediateSize;
        return numLayers * perLayer + h + (long) vocabSize * h * (tieWordEmbeddings ? 1 : 2);
    }

    public static ModelConfig load(Path configJson) throws IOException {
        return parse(Files.readString(configJson));
    }

    public static ModelConfig parse(String json) {
        JsonNode n = JSON.readTree(json);
        String arch = n.path("architectures").path(0).asString("LlamaForCausalLM");
        int hidden = required(n, "hidden_size");
        int heads = required(n, "num_attention_heads");
        int kvHeads = n.path("num_key_value_heads").asInt(heads);
        int headDim = n.hasNonNull("head_dim") ? n.get("head_dim").asInt() : hidden / heads;
        double theta = n.path("rope_theta").asDouble(n.path("rope_parameters").path("rope_theta").asDouble(10000.0));
        return new ModelConfig(arch,
                required(n, "vocab_size"),
                hidden,
                required(n, "intermediate_size"),
                required(n, "num_hidden_layers"),
                heads,
                kvHeads,
                headDim,
                (float) n.path("rms_norm_eps").asDouble(1e-6),
                theta,
                n.path("max_position_embeddings").asInt(2048),
                n.path("tie_word_embeddings").asBoolean(false),
                n.path("bos_token_id").isInt() ? n.get("bos_token_id").asInt() : n.path("bos_token_id").path(0).asInt(-1),
                ids(n.path("eos_token_id")));
    }

    private static int required(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isNumber()) throw new IllegalArgumentException("config.json: missing integer field '" + field + "'");
        return v.asInt();
    }

    static int[] ids(JsonNode node) {
        if (node == null || node.isMissingNode() || node.isNull()) return new int[0];
        if (node.isNumber()) return new int[] {node.asInt()};
        List<Integer> out = new ArrayList<>();
        node.forEach(x -> out.add(x.asInt()));
        return out.stream().mapToInt(Integer::intValue).toArray();
    }
}
