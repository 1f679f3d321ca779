package dev.podserve.tokenizer;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.HashMap;
import java.util.Map;
import java.util.regex.Pattern;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * What the tokenizer library does not expose, read from the model folder: the vocabulary (for
 * token lookups and its size), which added tokens are special, and from
 * {@code tokenizer_config.json} the BOS/EOS tokens, the BOS/EOS policy and the chat template.
 *
 * @param byteFallbackIds SentencePiece's {@code <0xNN>} byte tokens
 * @param addedIds        added tokens (special or not): their content is literal text, not a
 *                        vocabulary piece
 * @param byteLevel       whether the decoder is GPT-2's byte-level one, whose pieces spell bytes
 *                        with printable stand-in characters
 * @param addBosToken null where the config does not say, so the tokenizer.json post-processor decides
 * @param toolUseChatTemplate the template named "tool_use", which transformers' get_chat_template (and so
 *                            vLLM) renders a request with tools through; null where there is none
 */
record TokenizerFiles(Map<String, Integer> vocab, int vocabSize, BitSet specialIds, BitSet byteFallbackIds, BitSet addedIds,
                      boolean byteLevel, String bosToken, String eosToken, Boolean addBosToken, Boolean addEosToken,
                      String chatTemplate, String toolUseChatTemplate) {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Pattern BYTE_TOKEN = Pattern.compile("<0x[0-9A-Fa-f]{2}>");

    static TokenizerFiles read(Path dir) throws IOException {
        JsonNode tokenizer = readJson(dir.resolve("tokenizer.json"));
        Path configFile = dir.resolve("tokenizer_config.json");
        JsonNode config = Files.isRegularFile(configFile) ? readJson(configFile) : JSON.createObjectNode();
        // Older saves keep the special tokens in special_tokens_map.json; as in transformers, its
        // entries take precedence over tokenizer_config.json's.
        Path mapFile = dir.resolve("special_tokens_map.json");
        JsonNode specialMap = Files.isRegularFile(mapFile) ? readJson(mapFile) : JSON.createObjectNode();

        Map<String, Integer> vocab = new HashMap<>();
        JsonNode modelVocab = tokenizer.path("model").path("vocab");
        if (modelVocab.isObject()) {
            for (var e : modelVocab.properties()) vocab.put(e.getKey(), e.getValue().asInt());
        } else if (modelVocab.isArray()) {
            // Unigram lists [piece, score] pairs; the position is the id.
            for (int id = 0; id < modelVocab.size(); id++) vocab.put(modelVocab.get(id).path(0).asString(), id);
        }
        BitSet special = new BitSet();
        BitSet addedIds = new BitSet();
        for (JsonNode added : tokenizer.path("added_tokens")) {
            int id = added.path("id").asInt();
            vocab.put(added.path("content").asString(), id);
            addedIds.set(id);
            if (added.path("special").asBoolean(false)) special.set(id);
        }
        int size = vocab.values().stream().mapToInt(Integer::intValue).max().orElse(-1) + 1;
        BitSet byteFallback = new BitSet();
        vocab.forEach((token, id) -> {
            if (BYTE_TOKEN.matcher(token).matches()) byteFallback.set(id);
        });

        return new TokenizerFiles(Map.copyOf(vocab), size, special, byteFallback, addedIds, byteLevel(tokenizer.path("decoder")),
                special(specialMap, config, "bos_token"), special(specialMap, config, "eos_token"),
                flag(config, "add_bos_token"), flag(config, "add_eos_token"), chatTemplate(dir, config, "default"),
                toolUseChatTemplate(dir, config));
    }

    /** A ByteLevel decoder, alone or in a Sequence. */
    private static boolean byteLevel(JsonNode decoder) {
        if ("ByteLevel".equals(decoder.path("type").asString(""))) return true;
        for (JsonNode d : decoder.path("decoders")) {
            if (byteLevel(d)) return true;
        }
        return false;
    }

    private static JsonNode readJson(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return JSON.readTree(in);
        } catch (tools.jackson.core.JacksonException e) {
            throw new IOException(file + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static String special(JsonNode specialMap, JsonNode config, String field) {
        String fromMap = tokenText(specialMap.get(field));
        return fromMap != null ? fromMap : tokenText(config.get(field));
    }

    /** Special tokens are written as plain strings or as serialized AddedToken objects. */
    private static String tokenText(JsonNode node) {
        if (node == null || node.isNull()) return null;
        if (node.isString()) return node.asString();
        JsonNode content = node.get("content");
        return content != null && content.isString() ? content.asString() : null;
    }

    private static Boolean flag(JsonNode config, String field) {
        JsonNode v = config.get(field);
        return v != null && v.isBoolean() ? v.asBoolean() : null;
    }

    /**
     * transformers 5 writes the template to chat_template.jinja, which then takes precedence; older
     * configs hold a string, or a list of named templates of which serving uses "default".
     */
    private static String chatTemplate(Path dir, JsonNode config, String name) throws IOException {
        Path jinja = dir.resolve("chat_template.jinja");
        if (Files.isRegularFile(jinja)) return Files.readString(jinja);
        JsonNode t = config.get("chat_template");
        if (t == null || t.isNull()) return null;
        if (t.isString()) return t.asString();
        if (t.isArray()) {
            for (JsonNode named : t) {
                if (name.equals(named.path("name").asString(null))) return named.path("template").asString(null);
            }
        }
        return null;
    }

    /**
     * The "tool_use" template: additional_chat_templates/tool_use.jinja (where transformers saves named
     * templates beside chat_template.jinja), else the entry of that name in the config's list; a
     * chat_template.jinja replaces the config's templates whole, as in transformers.
     */
    private static String toolUseChatTemplate(Path dir, JsonNode config) throws IOException {
        Path file = dir.resolve("additional_chat_templates").resolve("tool_use.jinja");
        if (Files.isRegularFile(file)) return Files.readString(file);
        if (Files.isRegularFile(dir.resolve("chat_template.jinja")) || !config.path("chat_template").isArray()) return null;
        return chatTemplate(dir, config, "tool_use");
    }
}
