package dev.podserve.model;

/**
 * The per-layer tensors of a Llama-family checkpoint and where each lives inside {@link LayerWeights}
 * (some share a fused array). A loader fills a layer by taking every tensor {@link #presentFor} the
 * config (equivalently, every one whose {@link #array} is not null), reading
 * {@code model.layers.<i>.} + {@link #hfSuffix} from the checkpoint, checking its shape against
 * {@link #hfShape}, and copying its row-major data to {@code array(layer)} starting at
 * {@code offset(layer)}. A tensor not present for a config has no storage, and a checkpoint that
 * holds it is of another architecture.
 */
public enum LayerTensor {
    INPUT_NORM("input_layernorm.weight"),
    WQ("self_attn.q_proj.weight"),
    WK("self_attn.k_proj.weight"),
    WV("self_attn.v_proj.weight"),
    WO("self_attn.o_proj.weight"),
    POST_ATTN_NORM("post_attention_layernorm.weight"),
    GATE("mlp.gate_proj.weight"),
    UP("mlp.up_proj.weight"),
    DOWN("mlp.down_proj.weight"),
    // Appended after the weights so that the tensors above keep their ordinals (DummyWeights ids).
    Q_BIAS("self_attn.q_proj.bias"),
    K_BIAS("self_attn.k_proj.bias"),
    V_BIAS("self_attn.v_proj.bias");

    private final String hfSuffix;

    LayerTensor(String hfSuffix) {
        this.hfSuffix = hfSuffix;
    }

    /** Name after {@code model.layers.<i>.} in a HuggingFace checkpoint. */
    public String hfSuffix() {
        return hfSuffix;
    }

    /** Whether the architecture has this tensor: the q/k/v biases only where the config says so (Qwen2), the rest always. */
    public boolean presentFor(ModelConfig cfg) {
        return !isBias() || cfg.qkvBias();
    }

    public boolean isBias() {
        return this == Q_BIAS || this == K_BIAS || this == V_BIAS;
    }

    /**
     * The array holding this tensor (shared by WQ/WK/WV, by GATE/UP and by the three biases), or null
     * for a bias of a layer that has none.
     */
    public float[] array(LayerWeights l) {
        return switch (this) {
            case INPUT_NORM -> l.inputNorm();
            case WQ, WK, WV -> l.qkv();
            case WO -> l.wo();
            case POST_ATTN_NORM -> l.postAttnNorm();
            case GATE, UP -> l.gateUp();
            case DOWN -> l.down();
            case Q_BIAS, K_BIAS, V_BIAS -> l.qkvBias();
        };
    }

    /** First element of this tensor inside {@link #array}. */
    public int offset(LayerWeights l) {
        return offset(l.hidden(), l.qDim(), l.kvDim(), l.inter());
    }

    /** The same, from the config alone (for weights that never live in a {@link LayerWeights}). */
    public int offset(ModelConfig c) {
        return offset(c.hiddenSize(), c.qDim(), c.kvDim(), c.intermediateSize());
    }

    /** Output features (rows) of this tensor; 1 for the one-dimensional norm gains and biases. */
    public int rows(LayerWeights l) {
        return rows(l.hidden(), l.qDim(), l.kvDim(), l.inter());
    }

    public int rows(ModelConfig c) {
        return rows(c.hiddenSize(), c.qDim(), c.kvDim(), c.intermediateSize());
    }

    /** Input features (columns): the length of one row, so the whole length of a one-dimensional tensor. */
    public int cols(LayerWeights l) {
        return cols(l.hidden(), l.qDim(), l.kvDim(), l.inter());
    }

    public int cols(ModelConfig c) {
        return cols(c.hiddenSize(), c.qDim(), c.kvDim(), c.intermediateSize());
    }

    public int length(LayerWeights l) {
        return rows(l) * cols(l);
    }

    public int length(ModelConfig c) {
        return rows(c) * cols(c);
    }

    private int offset(int h, int qDim, int kvDim, int inter) {
        return switch (this) {
            case WK -> qDim * h;
            case WV -> (qDim + kvDim) * h;
            case UP -> inter * h;
            case K_BIAS -> qDim;
            case V_BIAS -> qDim + kvDim;
            default -> 0;
        };
    }

    private int rows(int h, int qDim, int kvDim, int inter) {
        return switch (this) {
            case INPUT_NORM, POST_ATTN_NORM, Q_BIAS, K_BIAS, V_BIAS -> 1;
            case WQ -> qDim;
            case WK, WV -> kvDim;
            case WO, DOWN -> h;
            case GATE, UP -> inter;
        };
    }

    private int cols(int h, int qDim, int kvDim, int inter) {
        return switch (this) {
            case INPUT_NORM, POST_ATTN_NORM, WQ, WK, WV, GATE, UP -> h;
            case WO -> qDim;
            case DOWN -> inter;
            case Q_BIAS -> qDim;
            case K_BIAS, V_BIAS -> kvDim;
        };
    }

    /** The shape the checkpoint stores: {@code [cols]} for norm gains and biases, {@code [rows, cols]} for matrices. */
    public int[] hfShape(LayerWeights l) {
        return isBias() || this == INPUT_NORM || this == POST_ATTN_NORM ? new int[] {cols(l)} : new int[] {rows(l), cols(l)};
    }
}
