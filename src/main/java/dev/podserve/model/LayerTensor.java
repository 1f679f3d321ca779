package dev.podserve.model;

/**
 * The nine per-layer tensors of a Llama checkpoint and where each lives inside {@link LayerWeights}
 * (some share a fused array). A loader maps a checkpoint name to one of these with {@link #hfSuffix}
 * and copies the tensor's row-major data to {@code array(layer)} starting at {@code offset(layer)}.
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
    DOWN("mlp.down_proj.weight");

    private final String hfSuffix;

    LayerTensor(String hfSuffix) {
        this.hfSuffix = hfSuffix;
    }

    /** Name after {@code model.layers.<i>.} in a HuggingFace Llama checkpoint. */
    public String hfSuffix() {
        return hfSuffix;
    }

    /** The array holding this tensor (shared by WQ/WK/WV and by GATE/UP). */
    public float[] array(LayerWeights l) {
        return switch (this) {
            case INPUT_NORM -> l.inputNorm();
            case WQ, WK, WV -> l.qkv();
            case WO -> l.wo();
            case POST_ATTN_NORM -> l.postAttnNorm();
            case GATE, UP -> l.gateUp();
            case DOWN -> l.down();
        };
    }

    /** First element of this tensor inside {@link #array}. */
    public int offset(LayerWeights l) {
        int h = l.hidden();
        return switch (this) {
            case WK -> l.qDim() * h;
            case WV -> (l.qDim() + l.kvDim()) * h;
            case UP -> l.inter() * h;
            default -> 0;
        };
    }

    /** Output features (rows) of this tensor; 1 for the norm gains. */
    public int rows(LayerWeights l) {
        return switch (this) {
            case INPUT_NORM, POST_ATTN_NORM -> 1;
            case WQ -> l.qDim();
            case WK, WV -> l.kvDim();
            case WO, DOWN -> l.hidden();
            case GATE, UP -> l.inter();
        };
    }

    /** Input features (columns): the length of one row. */
    public int cols(LayerWeights l) {
        return switch (this) {
            case INPUT_NORM, POST_ATTN_NORM, WQ, WK, WV, GATE, UP -> l.hidden();
            case WO -> l.qDim();
            case DOWN -> l.inter();
        };
    }

    public int length(LayerWeights l) {
        return rows(l) * cols(l);
    }
}
