package dev.podserve.model;

import java.util.Arrays;
import java.util.stream.Collectors;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads a HuggingFace {@code config.json} into a {@link ModelConfig}, filling absent fields with the
 * defaults of the transformers config class of its architecture, so that a sparse file means what
 * it means to transformers. Anything podserve would compute differently from transformers is
 * refused with a message naming config.json and the field.
 */
final class ConfigJson {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** The architectures podserve runs, with the transformers defaults that differ between them. */
    private enum Arch {
        LLAMA("LlamaForCausalLM", "llama", 2048),
        MISTRAL("MistralForCausalLM", "mistral", 4096 * 32),
        QWEN2("Qwen2ForCausalLM", "qwen2", 32768);

        final String className;
        final String modelType;
        final int defaultMaxPositions;

        Arch(String className, String modelType, int defaultMaxPositions) {
            this.className = className;
            this.modelType = modelType;
            this.defaultMaxPositions = defaultMaxPositions;
        }

        int defaultKvHeads(int heads) {
            return switch (this) {
                case LLAMA -> heads;
                case MISTRAL -> 8;
                case QWEN2 -> 32;
            };
        }

        static String supported() {
            return Arrays.stream(values()).map(a -> a.className).collect(Collectors.joining(", "));
        }
    }

    /** transformers' default sliding_window for Mistral and Qwen2 when config.json leaves it out. */
    private static final int DEFAULT_WINDOW = 4096;
    /** transformers' default max_window_layers for Qwen2. */
    private static final int DEFAULT_MAX_WINDOW_LAYERS = 28;

    private ConfigJson() {
    }

    static ModelConfig parse(String json) {
        JsonNode n;
        try {
            n = JSON.readTree(json);
        } catch (tools.jackson.core.JacksonException e) {
            throw error("is not valid JSON: " + e.getOriginalMessage());
        }
        if (n == null || !n.isObject()) throw error("is not a JSON object");
        // Quantized checkpoints keep their weights in other tensors (qweight, scales): say so, rather
        // than fail later on the first missing weight.
        JsonNode quant = n.get("quantization_config");
        if (quant != null && !quant.isNull()) {
            throw error("quantization_config (quant_method '" + quant.path("quant_method").asString("?")
                    + "') is not supported; podserve loads BF16, F16 or F32 weights");
        }
        Arch arch = architecture(n);
        requireSilu(n, arch);
        if (arch == Arch.LLAMA) {
            requireFalse(n, "attention_bias", "biases on q/k/v/o_proj");
            requireFalse(n, "mlp_bias", "biases on the MLP projections");
        }
        int hidden = integer(n, "hidden_size");
        int heads = integer(n, "num_attention_heads");
        int layers = integer(n, "num_hidden_layers");
        // Absent: the config class's default; an explicit null: one KV head per query head, as every class resolves it.
        int kvHeads = optionalInteger(n, "num_key_value_heads", n.has("num_key_value_heads") ? heads : arch.defaultKvHeads(heads));
        if (!n.hasNonNull("head_dim") && hidden % heads != 0) {
            throw error("hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads + " and head_dim is not given");
        }
        int headDim = optionalInteger(n, "head_dim", hidden / heads);
        int maxPositions = optionalInteger(n, "max_position_embeddings", arch.defaultMaxPositions);
        RopeJson.Rope rope = RopeJson.parse(n, maxPositions);
        int window = slidingWindow(n, arch);
        return new ModelConfig(arch.className,
                integer(n, "vocab_size"),
                hidden,
                integer(n, "intermediate_size"),
                layers,
                heads,
                kvHeads,
                headDim,
                (float) number(n, "rms_norm_eps", 1e-6),
                rope.theta(),
                maxPositions,
                bool(n, "tie_word_embeddings", false),
                n.path("bos_token_id").isNumber() ? n.get("bos_token_id").asInt() : n.path("bos_token_id").path(0).asInt(-1),
                ModelConfig.ids(n.path("eos_token_id"), "config.json"),
                rope.scaling(),
                window,
                window > 0 ? slidingLayers(n, arch, layers) : null,
                arch == Arch.QWEN2);
    }

    /** {@code architectures[0]}; else the class of {@code model_type}; else Llama, as a bare shape is one. */
    private static Arch architecture(JsonNode n) {
        JsonNode list = n.path("architectures");
        if (list.isArray() && !list.isEmpty()) {
            String name = list.get(0).asString("");
            for (Arch a : Arch.values()) if (a.className.equals(name)) return a;
            throw error("architectures[0] '" + name + "' is not supported (podserve runs " + Arch.supported() + ")");
        }
        if (n.hasNonNull("model_type")) {
            String type = n.get("model_type").asString("");
            for (Arch a : Arch.values()) if (a.modelType.equals(type)) return a;
            throw error("model_type '" + type + "' is not supported (podserve runs " + Arch.supported() + ")");
        }
        return Arch.LLAMA;
    }

    private static void requireSilu(JsonNode n, Arch arch) {
        if (!n.hasNonNull("hidden_act")) return;
        String act = n.get("hidden_act").asString("");
        if (!act.equals("silu")) {
            throw error("hidden_act '" + act + "' is not supported; " + arch.className + " runs with 'silu' (SwiGLU MLP)");
        }
    }

    private static void requireFalse(JsonNode n, String field, String what) {
        if (bool(n, field, false)) throw error(field + "=true (" + what + ") is not supported");
    }

    /** The window in tokens (itself included), 0 when attention is full everywhere. */
    private static int slidingWindow(JsonNode n, Arch arch) {
        if (arch == Arch.LLAMA) return 0;
        if (arch == Arch.QWEN2 && !bool(n, "use_sliding_window", false)) return 0;
        if (!n.has("sliding_window")) return DEFAULT_WINDOW;
        if (n.get("sliding_window").isNull()) return 0;
        int window = integer(n, "sliding_window");
        if (window <= 0) throw error("sliding_window must be positive or null, got " + window);
        return window;
    }

    /**
     * Mistral slides in every layer. Qwen2 slides where {@code layer_types} says
     * "sliding_attention", or, in configs written before that field existed, in the layers from
     * {@code max_window_layers} on (the first max_window_layers layers attend fully).
     */
    private static boolean[] slidingLayers(JsonNode n, Arch arch, int layers) {
        boolean[] sliding = new boolean[layers];
        if (arch == Arch.MISTRAL) {
            Arrays.fill(sliding, true);
            return sliding;
        }
        JsonNode types = n.path("layer_types");
        if (types.isArray()) {
            if (types.size() != layers) throw error("layer_types has " + types.size() + " entries for " + layers + " layers");
            for (int i = 0; i < layers; i++) {
                String t = types.get(i).asString("");
                if (!t.equals("full_attention") && !t.equals("sliding_attention")) {
                    throw error("layer_types[" + i + "] '" + t + "' is not supported (full_attention or sliding_attention)");
                }
                sliding[i] = t.equals("sliding_attention");
            }
            return sliding;
        }
        int full = optionalInteger(n, "max_window_layers", DEFAULT_MAX_WINDOW_LAYERS);
        for (int i = Math.max(0, full); i < layers; i++) sliding[i] = true;
        return sliding;
    }

    static IllegalArgumentException error(String message) {
        return new IllegalArgumentException("config.json: " + message);
    }

    static int integer(JsonNode n, String field) {
        JsonNode v = n.get(field);
        if (v == null || !v.isIntegralNumber() || !v.canConvertToInt()) {
            throw error(v == null || v.isNull() ? "missing integer field '" + field + "'" : "'" + field + "' must be an integer, got " + v);
        }
        return v.asInt();
    }

    static int optionalInteger(JsonNode n, String field, int fallback) {
        return n.hasNonNull(field) ? integer(n, field) : fallback;
    }

    static double number(JsonNode n, String field, double fallback) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) return fallback;
        if (!v.isNumber()) throw error("'" + field + "' must be a number, got " + v);
        return v.asDouble();
    }

    static boolean bool(JsonNode n, String field, boolean fallback) {
        JsonNode v = n.get(field);
        if (v == null || v.isNull()) return fallback;
        if (!v.isBoolean()) throw error("'" + field + "' must be true or false, got " + v);
        return v.asBoolean();
    }
}
