package dev.podserve.tokenizer;

import java.io.IOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import tools.jackson.databind.json.JsonMapper;

/** Tokenizers for tests: the embedded tiny one, and SentencePiece-style ones written on the spot. */
final class TestTokenizers {

    static final int ENDOFTEXT = 256;
    static final int IM_START = 257;
    static final int IM_END = 258;

    /** Pieces after the 3 specials and 256 byte tokens of {@link #sentencePiece}. */
    static final List<String> PIECES = List.of("▁", "▁Hello", "▁world", "Hel", "lo", ".", ",", "▁the", "!", "a",
            "▁a", "▁▁", "'s", "é", "▁é");

    private static HfTokenizer tiny;

    private TestTokenizers() {
    }

    static Path tinyDir() {
        URL url = TestTokenizers.class.getClassLoader().getResource("models/podserve-tiny/tokenizer.json");
        if (url == null) throw new IllegalStateException("embedded model is not on the classpath");
        try {
            return Path.of(url.toURI()).getParent();
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    static synchronized HfTokenizer tiny() {
        if (tiny == null) tiny = HfTokenizer.load(tinyDir());
        return tiny;
    }

    /**
     * A Llama-style SentencePiece BPE folder: {@code <unk> <s> </s>} (special), the 256
     * {@code <0xNN>} byte tokens, then {@link #PIECES}. {@code legacy} picks Llama 2's decoder
     * chain (spaces, byte fallback, fuse, strip one leading space) over a Metaspace decoder.
     */
    static Path sentencePiece(Path dir, boolean legacy) throws IOException {
        Map<String, Object> vocab = new LinkedHashMap<>();
        List<Object> added = new ArrayList<>();
        String[] specials = {"<unk>", "<s>", "</s>"};
        for (String s : specials) {
            added.add(Map.of("id", vocab.size(), "content", s, "single_word", false, "lstrip", false, "rstrip", false,
                    "normalized", false, "special", true));
            vocab.put(s, vocab.size());
        }
        for (int b = 0; b < 256; b++) vocab.put(String.format("<0x%02X>", b), vocab.size());
        for (String p : PIECES) vocab.put(p, vocab.size());

        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "BPE");
        model.put("unk_token", "<unk>");
        model.put("fuse_unk", true);
        model.put("byte_fallback", true);
        model.put("vocab", vocab);
        model.put("merges", List.of());

        Map<String, Object> metaspace = Map.of("type", "Metaspace", "replacement", "▁", "prepend_scheme", "first",
                "split", false);
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("version", "1.0");
        json.put("added_tokens", added);
        json.put("normalizer", legacy ? Map.of("type", "Sequence", "normalizers", List.of(
                Map.of("type", "Prepend", "prepend", "▁"),
                Map.of("type", "Replace", "pattern", Map.of("String", " "), "content", "▁"))) : null);
        json.put("pre_tokenizer", legacy ? null : metaspace);
        json.put("decoder", legacy ? Map.of("type", "Sequence", "decoders", List.of(
                Map.of("type", "Replace", "pattern", Map.of("String", "▁"), "content", " "),
                Map.of("type", "ByteFallback"),
                Map.of("type", "Fuse"),
                Map.of("type", "Strip", "content", " ", "start", 1, "stop", 0))) : metaspace);
        json.put("model", model);
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("tokenizer.json"), JsonMapper.builder().build().writeValueAsString(json));
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"bos_token\": \"<s>\", \"eos_token\": \"</s>\", \"add_bos_token\": true, \"add_eos_token\": false}");
        return dir;
    }

    static int[] utf8(String s) {
        byte[] bytes = s.getBytes(java.nio.charset.StandardCharsets.UTF_8);
        int[] ids = new int[bytes.length];
        for (int i = 0; i < bytes.length; i++) ids[i] = bytes[i] & 0xFF;
        return ids;
    }
}
