package dev.podserve.model;

import java.util.Arrays;
import java.util.Map;
import java.util.stream.Collectors;

import tools.jackson.databind.JsonNode;

/**
 * The RoPE part of config.json in both layouts found on the Hub: transformers 4.x writes
 * {@code rope_theta} at the top level and the scaling in {@code rope_scaling} (its kind under
 * {@code rope_type}, or the legacy {@code type}); transformers 5.x writes one {@code rope_parameters}
 * object holding {@code rope_theta}, {@code rope_type} and the scaling fields. Defaults are resolved
 * as transformers resolves them (its current YaRN rule: the explicit factor, the original context
 * from {@code original_max_position_embeddings} or else {@code max_position_embeddings}).
 */
final class RopeJson {

    /** transformers' defaults for YaRN's ramp bounds, in rotations over the original context. */
    private static final double BETA_FAST = 32;
    private static final double BETA_SLOW = 1;

    record Rope(double theta, RopeScaling scaling) {
    }

    private RopeJson() {
    }

    static Rope parse(JsonNode n, int maxPositions) {
        // Both present: rope_scaling wins, as transformers 5.x reads them (rope_scaling or rope_parameters) and
        // 4.x knows only rope_scaling; a 5.x config given a long-context switch the 4.x way keeps it.
        String where = n.hasNonNull("rope_scaling") || !n.hasNonNull("rope_parameters") ? "rope_scaling" : "rope_parameters";
        JsonNode p = n.path(where);
        if (!p.isMissingNode() && !p.isNull() && !p.isObject()) throw ConfigJson.error(where + " must be an object or null");
        for (Map.Entry<String, JsonNode> e : p.properties()) {
            if (e.getValue().isObject()) {
                throw ConfigJson.error(where + "." + e.getKey() + ": RoPE parameters per layer type are not supported");
            }
        }
        JsonNode parameters = n.path("rope_parameters");
        double theta = p.hasNonNull("rope_theta") ? number(p, where, "rope_theta")
                : parameters.hasNonNull("rope_theta") ? number(parameters, "rope_parameters", "rope_theta")
                : ConfigJson.number(n, "rope_theta", 10000.0);
        requireFullRotary(n.get("partial_rotary_factor"), "partial_rotary_factor");
        requireFullRotary(p.get("partial_rotary_factor"), where + ".partial_rotary_factor");
        String typeField = p.hasNonNull("rope_type") ? "rope_type" : p.hasNonNull("type") ? "type" : null;
        String typeName = typeField == null ? "default" : p.get(typeField).asString("");
        RopeScaling.Type type = RopeScaling.Type.byConfigName(typeName);
        if (type == null) {
            throw ConfigJson.error(where + "." + typeField + " '" + typeName + "' is not supported (podserve computes "
                    + Arrays.stream(RopeScaling.Type.values()).map(RopeScaling.Type::configName).collect(Collectors.joining(", ")) + ")");
        }
        RopeScaling scaling = switch (type) {
            case DEFAULT -> RopeScaling.none();
            case LINEAR -> RopeScaling.linear(number(p, where, "factor"));
            case DYNAMIC -> RopeScaling.dynamic(number(p, where, "factor"));
            // transformers requires the pretraining context for llama3 scaling: defaulting it to the
            // extended max_position_embeddings would move the wavelength bands and scale the wrong pairs.
            case LLAMA3 -> RopeScaling.llama3(number(p, where, "factor"), number(p, where, "low_freq_factor"),
                    number(p, where, "high_freq_factor"), requiredOriginal(n, p, where));
            case YARN -> yarn(n, p, where, maxPositions);
        };
        return new Rope(theta, scaling);
    }

    private static RopeScaling yarn(JsonNode n, JsonNode p, String where, int maxPositions) {
        int original = original(n, p, where, maxPositions);
        double factor = p.hasNonNull("factor") ? number(p, where, "factor") : (double) maxPositions / original;
        double attention;
        if (p.hasNonNull("attention_factor")) {
            attention = number(p, where, "attention_factor");
        } else {
            double mscale = optional(p, where, "mscale", 0);
            double mscaleAllDim = optional(p, where, "mscale_all_dim", 0);
            attention = mscale != 0 && mscaleAllDim != 0
                    ? RopeScaling.yarnMscale(factor, mscale) / RopeScaling.yarnMscale(factor, mscaleAllDim)
                    : RopeScaling.yarnMscale(factor, 1);
        }
        // transformers reads these with `or`, so 0 means "use the default" as much as null does.
        double betaFast = optional(p, where, "beta_fast", 0);
        double betaSlow = optional(p, where, "beta_slow", 0);
        JsonNode truncate = p.get("truncate");
        if (truncate != null && !truncate.isNull() && !truncate.isBoolean()) {
            throw ConfigJson.error(where + ".truncate must be true or false, got " + truncate);
        }
        return RopeScaling.yarn(factor, original, betaFast == 0 ? BETA_FAST : betaFast, betaSlow == 0 ? BETA_SLOW : betaSlow,
                attention, truncate == null || truncate.isNull() || truncate.asBoolean());
    }

    /**
     * The pretraining context: a top-level {@code original_max_position_embeddings} wins (transformers
     * gives it priority), then the one among the rope fields, then max_position_embeddings.
     */
    private static int original(JsonNode n, JsonNode p, String where, int maxPositions) {
        if (n.hasNonNull("original_max_position_embeddings")) return ConfigJson.integer(n, "original_max_position_embeddings");
        if (p.hasNonNull("original_max_position_embeddings")) {
            JsonNode v = p.get("original_max_position_embeddings");
            if (!v.isIntegralNumber() || !v.canConvertToInt()) {
                throw ConfigJson.error(where + ".original_max_position_embeddings must be an integer, got " + v);
            }
            return v.asInt();
        }
        return maxPositions;
    }

    private static int requiredOriginal(JsonNode n, JsonNode p, String where) {
        if (!n.hasNonNull("original_max_position_embeddings") && !p.hasNonNull("original_max_position_embeddings")) {
            throw ConfigJson.error(where + " of type llama3 needs original_max_position_embeddings (the pretraining context)");
        }
        return original(n, p, where, 0);
    }

    private static void requireFullRotary(JsonNode v, String field) {
        if (v != null && !v.isNull() && !(v.isNumber() && v.asDouble() == 1.0)) {
            throw ConfigJson.error(field + "=" + v + " is not supported (the rotary embedding must cover the whole head)");
        }
    }

    private static double number(JsonNode p, String where, String field) {
        JsonNode v = p.get(field);
        if (v == null || v.isNull()) throw ConfigJson.error(where + "." + field + " is required for this rope type");
        if (!v.isNumber()) throw ConfigJson.error(where + "." + field + " must be a number, got " + v);
        return v.asDouble();
    }

    private static double optional(JsonNode p, String where, String field, double fallback) {
        return p.hasNonNull(field) ? number(p, where, field) : fallback;
    }
}
