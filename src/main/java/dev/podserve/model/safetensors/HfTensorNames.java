package dev.podserve.model.safetensors;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.podserve.model.LayerTensor;
import dev.podserve.model.LayerWeights;
import dev.podserve.model.ModelWeights;

/**
 * Where each tensor of a HuggingFace Llama-family checkpoint lives inside {@link ModelWeights}: the
 * one name mapping that both the loader and the writer use. Per-layer tensors come from
 * {@link LayerTensor}, every entry of it, so a tensor added there is read and written with no change here.
 */
public final class HfTensorNames {

    public static final String EMBED = "model.embed_tokens.weight";
    public static final String FINAL_NORM = "model.norm.weight";
    public static final String LM_HEAD = "lm_head.weight";
    public static final String LAYER_PREFIX = "model.layers.";

    /**
     * A checkpoint tensor and its destination: elements {@code offset .. offset+length-1} of
     * {@code array}, row-major.
     *
     * @param shape the shape HuggingFace writes: {@code [out, in]} for a matrix, {@code [n]} for a vector
     */
    public record Slot(String name, float[] array, int offset, long[] shape) {

        public Slot {
            shape = shape.clone();
        }

        @Override
        public long[] shape() {
            return shape.clone();
        }

        public int length() {
            long n = 1;
            for (long d : shape) n *= d;
            return (int) n;
        }

        public String shapeText() {
            return Arrays.toString(shape);
        }
    }

    private HfTensorNames() {
    }

    /**
     * Every tensor the weights need, in checkpoint order (embedding, layers, final norm, LM head). A
     * tied LM head is the embedding array and is left out; a {@link LayerTensor} this config does not use
     * (no array, or an empty one) is left out too.
     */
    public static List<Slot> slots(ModelWeights w) {
        int vocab = w.config().vocabSize();
        int hidden = w.config().hiddenSize();
        List<Slot> slots = new ArrayList<>();
        slots.add(new Slot(EMBED, w.embed(), 0, new long[] {vocab, hidden}));
        for (int i = 0; i < w.layers().size(); i++) {
            LayerWeights l = w.layer(i);
            for (LayerTensor t : LayerTensor.values()) {
                float[] array = t.array(l);
                if (array == null || t.length(l) == 0) continue;
                slots.add(new Slot(layerName(i, t), array, t.offset(l), shape(t.rows(l), t.cols(l))));
            }
        }
        slots.add(new Slot(FINAL_NORM, w.finalNorm(), 0, new long[] {hidden}));
        if (w.lmHead() != w.embed()) slots.add(new Slot(LM_HEAD, w.lmHead(), 0, new long[] {vocab, hidden}));
        return slots;
    }

    public static String layerName(int layer, LayerTensor t) {
        return LAYER_PREFIX + layer + "." + t.hfSuffix();
    }

    /** HuggingFace stores gains and biases as vectors, projections as {@code [out, in]} matrices. */
    private static long[] shape(int rows, int cols) {
        if (rows == 1) return new long[] {cols};
        if (cols == 1) return new long[] {rows};
        return new long[] {rows, cols};
    }
}
