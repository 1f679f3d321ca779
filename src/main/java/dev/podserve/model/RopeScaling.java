package dev.podserve.model;

import java.util.Arrays;
import java.util.Locale;

/**
 * How a checkpoint stretches rotary position embeddings past its pretraining length: config.json's
 * {@code rope_scaling} (transformers 4.x) or the scaling fields of {@code rope_parameters}
 * (transformers 5.x), with every default already resolved the way transformers resolves it, so the
 * numbers here are the ones the frequencies are computed from.
 *
 * @param type                          the scaling rule
 * @param factor                        context stretch (1 for {@link Type#DEFAULT})
 * @param lowFreqFactor                 llama3 only: wavelengths above original/lowFreqFactor are divided by factor
 * @param highFreqFactor                llama3 only: wavelengths below original/highFreqFactor are kept
 * @param originalMaxPositionEmbeddings llama3 and yarn: the pretraining context (0 for the other types)
 * @param betaFast                      yarn only: rotations over the original context above which a pair is kept
 * @param betaSlow                      yarn only: rotations below which a pair is fully interpolated
 * @param attentionFactor               multiplies cos and sin (yarn's mscale; 1 for every other type)
 * @param truncate                      yarn only: round the correction range outwards to whole pairs
 */
public record RopeScaling(Type type, double factor, double lowFreqFactor, double highFreqFactor,
                          int originalMaxPositionEmbeddings, double betaFast, double betaSlow,
                          double attentionFactor, boolean truncate) {

    /** The {@code rope_type} values transformers' {@code ROPE_INIT_FUNCTIONS} knows and podserve computes. */
    public enum Type {
        DEFAULT, LINEAR, DYNAMIC, LLAMA3, YARN;

        /** The name config.json uses. */
        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The type config.json names {@code name}, or null when podserve has none by that name. */
        static Type byConfigName(String name) {
            return Arrays.stream(values()).filter(t -> t.configName().equals(name)).findFirst().orElse(null);
        }
    }

    public RopeScaling {
        if (type == null) throw new IllegalArgumentException("rope scaling type is required");
        require(factor > 0 && Double.isFinite(factor), "factor must be a positive number, got " + factor);
        require(attentionFactor > 0 && Double.isFinite(attentionFactor), "attention_factor must be positive, got " + attentionFactor);
        if (type == Type.LLAMA3) {
            require(highFreqFactor > lowFreqFactor && lowFreqFactor > 0,
                    "llama3 needs 0 < low_freq_factor < high_freq_factor, got " + lowFreqFactor + " and " + highFreqFactor);
        }
        if (type == Type.LLAMA3 || type == Type.YARN) {
            require(originalMaxPositionEmbeddings > 0, type.configName() + " needs a positive original_max_position_embeddings");
        }
        if (type == Type.YARN) {
            require(betaFast > 0 && betaSlow > 0, "yarn needs positive beta_fast and beta_slow");
        }
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException("config.json: rope scaling: " + message);
    }

    /** Plain RoPE. */
    public static RopeScaling none() {
        return new RopeScaling(Type.DEFAULT, 1, 0, 0, 0, 0, 0, 1, false);
    }

    /** Positions divided by {@code factor} (equivalently, every inverse frequency). */
    public static RopeScaling linear(double factor) {
        return new RopeScaling(Type.LINEAR, factor, 0, 0, 0, 0, 0, 1, false);
    }

    /** NTK-aware base stretch once a sequence outgrows {@code max_position_embeddings}. */
    public static RopeScaling dynamic(double factor) {
        return new RopeScaling(Type.DYNAMIC, factor, 0, 0, 0, 0, 0, 1, false);
    }

    public static RopeScaling llama3(double factor, double lowFreqFactor, double highFreqFactor, int original) {
        return new RopeScaling(Type.LLAMA3, factor, lowFreqFactor, highFreqFactor, original, 0, 0, 1, false);
    }

    public static RopeScaling yarn(double factor, int original, double betaFast, double betaSlow, double attentionFactor,
                                   boolean truncate) {
        return new RopeScaling(Type.YARN, factor, 0, 0, original, betaFast, betaSlow, attentionFactor, truncate);
    }

    /** YaRN's default magnitude correction {@code 0.1 * mscale * ln(scale) + 1}, and 1 when nothing is stretched. */
    public static double yarnMscale(double scale, double mscale) {
        return scale <= 1 ? 1.0 : 0.1 * mscale * Math.log(scale) + 1.0;
    }

    /**
     * The longest context this scaling is meant for, given {@code max_position_embeddings}, derived as
     * vLLM derives its default max_model_len: linear and dynamic scaling stretch the configured length
     * by {@code factor} (a checkpoint such as vicuna-7b-v1.5-16k states 4,096 positions and a linear
     * factor of 4 to serve 16K), YaRN stretches its original length, and llama3 already states its
     * full length in max_position_embeddings.
     */
    public int maxContextLength(int maxPositionEmbeddings) {
        long stretched = switch (type) {
            case LINEAR, DYNAMIC -> (long) (maxPositionEmbeddings * factor);
            case YARN -> Math.max(maxPositionEmbeddings, (long) (originalMaxPositionEmbeddings * factor));
            default -> maxPositionEmbeddings;
        };
        return (int) Math.min(Integer.MAX_VALUE, stretched);
    }
}
