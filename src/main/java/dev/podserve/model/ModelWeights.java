package dev.podserve.model;

import java.util.ArrayList;
import java.util.List;

/**
 * The fp32 weights of a Llama-family decoder held in plain row-major {@code float[]} arrays, so a
 * backend can run them directly and a loader can fill them tensor by tensor.
 *
 * <p>Layouts ({@code [rows][cols]}, row-major):
 * <ul>
 *   <li>{@link #embed()} {@code [vocab][hidden]}: row v is token v's embedding;</li>
 *   <li>{@link #layer(int)}: see {@link LayerWeights} (q/k/v and gate/up fused);</li>
 *   <li>{@link #finalNorm()} {@code [hidden]};</li>
 *   <li>{@link #lmHead()} {@code [vocab][hidden]}: logit v is row v dotted with the final hidden state;
 *       the very same array as {@code embed} when the config ties word embeddings.</li>
 * </ul>
 */
public final class ModelWeights {

    private final ModelConfig config;
    private final float[] embed;
    private final List<LayerWeights> layers;
    private final float[] finalNorm;
    private final float[] lmHead;

    public ModelWeights(ModelConfig config, float[] embed, List<LayerWeights> layers, float[] finalNorm, float[] lmHead) {
        long table = (long) config.vocabSize() * config.hiddenSize();
        if (embed.length != table || lmHead.length != table) {
            throw new IllegalArgumentException("embed and lm_head must hold vocab*hidden = " + table + " floats");
        }
        if (config.tieWordEmbeddings() && lmHead != embed) {
            throw new IllegalArgumentException("tie_word_embeddings is set: lm_head must be the embed array itself");
        }
        if (layers.size() != config.numLayers()) {
            throw new IllegalArgumentException("expected " + config.numLayers() + " layers, got " + layers.size());
        }
        for (LayerWeights l : layers) {
            if ((l.qkvBias() != null) != config.qkvBias()) {
                throw new IllegalArgumentException("layers " + (config.qkvBias() ? "lack" : "carry") + " q/k/v biases, unlike "
                        + config.architecture() + "'s config");
            }
        }
        if (finalNorm.length != config.hiddenSize()) {
            throw new IllegalArgumentException("final norm must hold hidden = " + config.hiddenSize() + " floats");
        }
        this.config = config;
        this.embed = embed;
        this.layers = List.copyOf(layers);
        this.finalNorm = finalNorm;
        this.lmHead = lmHead;
    }

    /** Zero-filled weights of the config's shapes (LM head shared with the embedding when tied). */
    public static ModelWeights allocate(ModelConfig config) {
        return allocate(config, 1);
    }

    /** As {@link #allocate(ModelConfig)}, the arrays allocated (and so first touched) by up to {@code threads} threads. */
    public static ModelWeights allocate(ModelConfig config, int threads) {
        int tableSize = checkedSize("embed_tokens", (long) config.vocabSize() * config.hiddenSize());
        float[][] tables = new float[2][];
        LayerWeights[] layers = new LayerWeights[config.numLayers()];
        List<Runnable> tasks = new ArrayList<>();
        // Largest first, so the single-threaded zeroing of the big tables overlaps the layers.
        tasks.add(() -> tables[0] = new float[tableSize]);
        if (!config.tieWordEmbeddings()) tasks.add(() -> tables[1] = new float[tableSize]);
        for (int i = 0; i < layers.length; i++) {
            int layer = i;
            tasks.add(() -> layers[layer] = LayerWeights.allocate(config));
        }
        ParallelTasks.run(tasks, threads, "weight-allocation");
        float[] lmHead = config.tieWordEmbeddings() ? tables[0] : tables[1];
        return new ModelWeights(config, tables[0], List.of(layers), new float[config.hiddenSize()], lmHead);
    }

    static int checkedSize(String name, long elements) {
        if (elements > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException(name + " has " + elements + " elements, more than one Java array holds");
        }
        return (int) elements;
    }

    public ModelConfig config() {
        return config;
    }

    public float[] embed() {
        return embed;
    }

    public LayerWeights layer(int i) {
        return layers.get(i);
    }

    public List<LayerWeights> layers() {
        return layers;
    }

    public float[] finalNorm() {
        return finalNorm;
    }

    public float[] lmHead() {
        return lmHead;
    }

    /** Bytes held by the weight arrays (the tied table counted once). */
    public long bytes() {
        long floats = embed.length + finalNorm.length + (lmHead == embed ? 0 : lmHead.length);
        for (LayerWeights l : layers) floats += l.floats();
        return floats * Float.BYTES;
    }
}
