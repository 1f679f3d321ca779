package dev.podserve.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import tools.jackson.databind.JsonNode;

/**
 * The shape of a Llama-family decoder (Llama, Mistral, Qwen2), as a HuggingFace {@code config.json}
 * describes it; {@link #parse} reads both the transformers 4.x and 5.x layouts.
 *
 * @param ropeScaling   how rotary frequencies are stretched ({@link RopeScaling#none()} for plain RoPE)
 * @param slidingWindow tokens a query sees, itself included, in the layers that slide; 0 for none
 * @param slidingLayers which layers use the window (length numLayers; all false when slidingWindow is 0)
 * @param qkvBias       whether q_proj, k_proj and v_proj carry biases (Qwen2)
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
        int[] eosTokenIds,
        RopeScaling ropeScaling,
        int slidingWindow,
        boolean[] slidingLayers,
        boolean qkvBias) {

    public ModelConfig {
        check(vocabSize > 0, "vocab_size must be positive");
        check(hiddenSize > 0 && intermediateSize > 0 && numLayers > 0, "hidden_size, intermediate_size and num_hidden_layers must be positive");
        check(numHeads > 0 && numKvHeads > 0 && numHeads % numKvHeads == 0,
                "num_attention_heads (" + numHeads + ") must be a positive multiple of num_key_value_heads (" + numKvHeads + ")");
        check(headDim > 2 && headDim % 2 == 0, "head_dim must be even and above 2 (rotary pairs)");
        check(maxPositionEmbeddings > 0, "max_position_embeddings must be positive");
        check(rmsNormEps > 0, "rms_norm_eps must be positive");
        check(ropeTheta > 1, "rope_theta must be above 1");
        check(slidingWindow >= 0, "sliding_window must be positive or null");
        eosTokenIds = eosTokenIds == null ? new int[0] : eosTokenIds.clone();
        if (ropeScaling == null) ropeScaling = RopeScaling.none();
        if (slidingLayers == null) {
            slidingLayers = new boolean[numLayers];
            Arrays.fill(slidingLayers, slidingWindow > 0);
        } else {
            check(slidingLayers.length == numLayers, "layer_types must list one entry per layer (" + numLayers + ")");
            slidingLayers = slidingWindow > 0 ? slidingLayers.clone() : new boolean[numLayers];
        }
    }

    /** A config with plain RoPE, full attention in every layer and no projection biases. */
    public ModelConfig(String architecture, int vocabSize, int hiddenSize, int intermediateSize, int numLayers,
                       int numHeads, int numKvHeads, int headDim, float rmsNormEps, double ropeTheta,
                       int maxPositionEmbeddings, boolean tieWordEmbeddings, int bosTokenId, int[] eosTokenIds) {
        this(architecture, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads, headDim, rmsNormEps,
                ropeTheta, maxPositionEmbeddings, tieWordEmbeddings, bosTokenId, eosTokenIds, RopeScaling.none(), 0, null,
                false);
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException("config.json: " + message);
    }

    public static ModelConfig load(Path configJson) throws IOException {
        return parse(Files.readString(configJson));
    }

    /** Reads a HuggingFace config.json; anything podserve cannot run exactly is an IllegalArgumentException naming the field. */
    public static ModelConfig parse(String json) {
        return ConfigJson.parse(json);
    }

    /** This config with the window applied in every layer (0: none). */
    /**
     * Fails unless {@code weights} (the config the weights were made or loaded for) has this
     * config's tensor shapes: what every backend checks before running weights against a config.
     */
    public void requireSameShapeAs(ModelConfig weights) {
        boolean same = weights.vocabSize() == vocabSize && weights.hiddenSize() == hiddenSize
                && weights.intermediateSize() == intermediateSize && weights.numLayers() == numLayers
                && weights.numHeads() == numHeads && weights.numKvHeads() == numKvHeads && weights.headDim() == headDim
                && weights.tieWordEmbeddings() == tieWordEmbeddings && weights.qkvBias() == qkvBias;
        if (!same) throw new IllegalArgumentException("weights were made for a different model shape than the config");
    }

    public ModelConfig withSlidingWindow(int window) {
        return new ModelConfig(architecture, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads,
                headDim, rmsNormEps, ropeTheta, maxPositionEmbeddings, tieWordEmbeddings, bosTokenId, eosTokenIds,
                ropeScaling, window, null, qkvBias);
    }

    public ModelConfig withQkvBias(boolean bias) {
        return new ModelConfig(architecture, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads,
                headDim, rmsNormEps, ropeTheta, maxPositionEmbeddings, tieWordEmbeddings, bosTokenId, eosTokenIds,
                ropeScaling, slidingWindow, slidingLayers, bias);
    }

    public ModelConfig withRope(double theta, RopeScaling scaling) {
        return new ModelConfig(architecture, vocabSize, hiddenSize, intermediateSize, numLayers, numHeads, numKvHeads,
                headDim, rmsNormEps, theta, maxPositionEmbeddings, tieWordEmbeddings, bosTokenId, eosTokenIds,
                scaling, slidingWindow, slidingLayers, qkvBias);
    }

    @Override
    public int[] eosTokenIds() {
        return eosTokenIds.clone();
    }

    @Override
    public boolean[] slidingLayers() {
        return slidingLayers.clone();
    }

    /** Tokens a query of {@code layer} attends to, itself included: the sliding window, or 0 for the whole context. */
    public int windowOf(int layer) {
        return slidingLayers[layer] ? slidingWindow : 0;
    }

    /** The longest sequence the model's positions serve; see {@link RopeScaling#maxContextLength}. */
    public int maxContextLength() {
        return ropeScaling.maxContextLength(maxPositionEmbeddings);
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
        long perLayer = 2 * h + h * qDim() * 2L + h * kvDim() * 2L + 3L * h * intermediateSize
                + (qkvBias ? qDim() + 2L * kvDim() : 0);
        return numLayers * perLayer + h + (long) vocabSize * h * (tieWordEmbeddings ? 1 : 2);
    }

    @Override
    public String toString() {
        return architecture + "[vocab " + vocabSize + ", hidden " + hiddenSize + ", mlp " + intermediateSize + ", layers "
                + numLayers + ", heads " + numHeads + "/" + numKvHeads + " x " + headDim + ", rope " + ropeTheta + " "
                + ropeScaling.type().configName() + (slidingWindow > 0 ? ", window " + slidingWindow : "")
                + (qkvBias ? ", qkv bias" : "") + (tieWordEmbeddings ? ", tied" : "") + "]";
    }

    /**
     * Token ids from an int, a list of ints, or null. Anything else is refused: a null inside the list
     * read as 0 would make token 0 end every generation, and a string would silently mean no EOS.
     */
    static int[] ids(JsonNode node, String file) {
        if (node == null || node.isMissingNode() || node.isNull()) return new int[0];
        if (node.isArray()) {
            List<Integer> out = new ArrayList<>();
            node.forEach(x -> out.add(id(x, file)));
            return out.stream().mapToInt(Integer::intValue).toArray();
        }
        return new int[] {id(node, file)};
    }

    private static int id(JsonNode x, String file) {
        if (!x.isIntegralNumber() || !x.canConvertToInt() || x.asInt() < 0) {
            throw new IllegalArgumentException(file + ": eos_token_id must be a token id or a list of them, got " + x);
        }
        return x.asInt();
    }
}
