package dev.podserve.tokenizer;

import static dev.podserve.tokenizer.TestTokenizers.ENDOFTEXT;
import static dev.podserve.tokenizer.TestTokenizers.IM_END;
import static dev.podserve.tokenizer.TestTokenizers.IM_START;
import static dev.podserve.tokenizer.TestTokenizers.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.stream.IntStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class HfTokenizerTest {

    private final HfTokenizer tiny = TestTokenizers.tiny();

    @ParameterizedTest
    @ValueSource(strings = {"hello", "héllo wörld", "😀🎉 emoji", "中文字符 and 日本語", "e\u0301 a\u0308 combining",
            "tabs\tand\nnew\r\nlines", "nul\u0000byte", "𝕏 outside the BMP", "zero\u200Bwidth", " leading space", ""})
    void byteIdsAreTheUtf8BytesAndTextRoundTrips(String text) {
        int[] ids = tiny.encode(text);
        assertThat(ids).containsExactly(utf8(text));
        assertThat(tiny.decode(ids, false)).isEqualTo(text);
        assertThat(tiny.encodeNoSpecial(text)).containsExactly(utf8(text));
    }

    @Test
    void randomUnicodeRoundTrips() {
        Random random = new Random(7);
        for (int n = 0; n < 300; n++) {
            StringBuilder sb = new StringBuilder();
            for (int k = random.nextInt(30); k > 0; k--) {
                int cp;
                do {
                    cp = random.nextInt(4) == 0 ? random.nextInt(0x110000) : random.nextInt(0x3000);
                } while (cp >= 0xD800 && cp <= 0xDFFF);
                sb.appendCodePoint(cp);
            }
            String text = sb.toString();
            assertThat(tiny.encode(text)).containsExactly(utf8(text));
            assertThat(tiny.decode(tiny.encode(text), false)).isEqualTo(text);
        }
    }

    @Test
    void specialTokensInTextBecomeTheirIds() {
        int[] expected = IntStream.concat(IntStream.concat(IntStream.of(IM_START), IntStream.of(utf8("user\nhi"))),
                IntStream.of(IM_END, ENDOFTEXT)).toArray();
        String text = "<|im_start|>user\nhi<|im_end|><|endoftext|>";
        assertThat(tiny.encode(text)).containsExactly(expected);
        assertThat(tiny.encodeNoSpecial(text)).containsExactly(expected);
        assertThat(tiny.decode(expected, false)).isEqualTo(text);
    }

    @Test
    void longTextIsNotTruncatedTo512Tokens() {
        String text = "The quick brown fox jumps over the lazy dog. ".repeat(112);
        assertThat(text.length()).isGreaterThan(5000);
        int[] ids = tiny.encode(text);
        assertThat(ids).hasSize(text.length());
        assertThat(tiny.decode(ids, false)).isEqualTo(text);

        String wide = "日本".repeat(1000);
        assertThat(tiny.encodeNoSpecial(wide)).hasSize(6000);
    }

    @Test
    void decodeCanSkipSpecialTokens() {
        int[] ids = {IM_START, 'h', 'i', IM_END, ENDOFTEXT};
        assertThat(tiny.decode(ids, true)).isEqualTo("hi");
        assertThat(tiny.decode(ids, false)).isEqualTo("<|im_start|>hi<|im_end|><|endoftext|>");
    }

    @Test
    void bytesThatFormNoCharacterDecodeToReplacement() {
        assertThat(tiny.decode(new int[] {0xE4, 'a'}, false)).isEqualTo("\uFFFDa");
        assertThat(tiny.decode(new int[] {0xF0, 0x9F, 0x98}, false)).isEqualTo("\uFFFD");
    }

    @Test
    void vocabularyAndSpecialTokens() {
        assertThat(tiny.vocabSize()).isEqualTo(259);
        assertThat(tiny.tokenId("<|im_end|>")).hasValue(IM_END);
        assertThat(tiny.tokenId("Ġ")).hasValue(' ');
        assertThat(tiny.tokenId("!")).hasValue('!');
        assertThat(tiny.tokenId("Ā")).hasValue(0);
        assertThat(tiny.tokenId("no such token")).isEmpty();
        assertThat(IntStream.range(0, 259).filter(tiny::isSpecial).toArray()).containsExactly(256, 257, 258);
        assertThat(tiny.isSpecial(-1)).isFalse();
        assertThat(tiny.bosToken()).isEqualTo("<|endoftext|>");
        assertThat(tiny.eosToken()).isEqualTo("<|im_end|>");
        assertThat(tiny.bosTokenId()).hasValue(ENDOFTEXT);
        assertThat(tiny.eosTokenId()).hasValue(IM_END);
        assertThat(tiny.chatTemplate()).hasValueSatisfying(t -> assertThat(t).contains("<|im_start|>"));
    }

    @Test
    void configTokensAsObjectsNamedTemplatesAndAddedBos(@TempDir Path dir) throws IOException {
        copyTinyTokenizer(dir);
        Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"bos_token": {"__type": "AddedToken", "content": "<|endoftext|>", "special": true},
                 "eos_token": {"content": "<|im_end|>"},
                 "add_bos_token": true,
                 "chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]}
                """);
        try (HfTokenizer tok = HfTokenizer.load(dir)) {
            assertThat(tok.bosToken()).isEqualTo("<|endoftext|>");
            assertThat(tok.eosToken()).isEqualTo("<|im_end|>");
            assertThat(tok.chatTemplate()).hasValue("D");
            assertThat(tok.encode("hi")).containsExactly(ENDOFTEXT, 'h', 'i');
            assertThat(tok.encodeNoSpecial("hi")).containsExactly('h', 'i');
        }
    }

    @Test
    void addEosTokenAppendsIt(@TempDir Path dir) throws IOException {
        copyTinyTokenizer(dir);
        Files.writeString(dir.resolve("tokenizer_config.json"),
                "{\"eos_token\": \"<|im_end|>\", \"add_bos_token\": false, \"add_eos_token\": true}");
        try (HfTokenizer tok = HfTokenizer.load(dir)) {
            assertThat(tok.encode("hi")).containsExactly('h', 'i', IM_END);
        }
    }

    /**
     * A config that states only add_eos_token: BOS stays as the tokenizer.json post-processor adds
     * it (transformers' Llama tokenizer defaults add_bos_token to true); it was dropped.
     */
    @Test
    void aFlagTheConfigLeavesOutFollowsThePostProcessor(@TempDir Path dir) throws IOException {
        TestTokenizers.sentencePiece(dir, true);
        Path json = dir.resolve("tokenizer.json");
        Files.writeString(json, Files.readString(json).replaceFirst("^\\{", """
                {"post_processor": {"type": "TemplateProcessing",
                  "single": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
                  "pair": [{"SpecialToken": {"id": "<s>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                           {"SpecialToken": {"id": "<s>", "type_id": 1}}, {"Sequence": {"id": "B", "type_id": 1}}],
                  "special_tokens": {"<s>": {"id": "<s>", "ids": [1], "tokens": ["<s>"]}}},
                """));
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": \"<s>\", \"eos_token\": \"</s>\", \"add_eos_token\": true}");
        try (HfTokenizer tok = HfTokenizer.load(dir)) {
            int[] ids = tok.encode("x");
            assertThat(ids[0]).as("BOS from the post-processor").isEqualTo(1);
            assertThat(ids[ids.length - 1]).as("EOS as configured").isEqualTo(2);
        }
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"bos_token\": \"<s>\", \"eos_token\": \"</s>\", \"add_bos_token\": false}");
        try (HfTokenizer tok = HfTokenizer.load(dir)) {
            int[] ids = tok.encode("x");
            assertThat(ids[0]).as("BOS turned off").isNotEqualTo(1);
            assertThat(ids[ids.length - 1]).as("the post-processor adds no EOS").isNotEqualTo(2);
        }
    }

    @Test
    void chatTemplateFileTakesPrecedence(@TempDir Path dir) throws IOException {
        copyTinyTokenizer(dir);
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"chat_template\": \"old\"}");
        Files.writeString(dir.resolve("chat_template.jinja"), "new {{ messages }}");
        try (HfTokenizer tok = HfTokenizer.load(dir)) {
            assertThat(tok.chatTemplate()).hasValue("new {{ messages }}");
        }
    }

    @Test
    void tokenizerJsonAloneIsEnough(@TempDir Path dir) throws IOException {
        copyTinyTokenizer(dir);
        try (HfTokenizer tok = HfTokenizer.load(dir)) {
            assertThat(tok.bosToken()).isNull();
            assertThat(tok.eosToken()).isNull();
            assertThat(tok.eosTokenId()).isEmpty();
            assertThat(tok.chatTemplate()).isEmpty();
            assertThat(tok.encode("<|im_end|>a")).containsExactly(IM_END, 'a');
        }
    }

    @Test
    void missingTokenizerIsAClearError(@TempDir Path dir) {
        assertThatThrownBy(() -> HfTokenizer.load(dir))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("tokenizer.json");
    }

    @Test
    void sentencePieceStyleAddsBosAsConfigured(@TempDir Path dir) throws IOException {
        try (HfTokenizer tok = HfTokenizer.load(TestTokenizers.sentencePiece(dir, true))) {
            int hello = tok.tokenId("▁Hello").getAsInt();
            int world = tok.tokenId("▁world").getAsInt();
            assertThat(tok.decode(new int[] {hello, world}, false)).isEqualTo("Hello world");
            assertThat(tok.decode(new int[] {1, hello, 2}, true)).isEqualTo("Hello");
            assertThat(tok.encode("x")[0]).isEqualTo(1);
            assertThat(tok.isByteFallback(tok.tokenId("<0xE4>").getAsInt())).isTrue();
            assertThat(tok.isByteFallback(hello)).isFalse();
        }
    }

    /**
     * An older save: tokenizer_config.json asks for BOS but names neither special token; they are in
     * special_tokens_map.json (as an AddedToken object and a string), which transformers reads too.
     */
    @Test
    void specialTokensMapNamesBosAndEos(@TempDir Path dir) throws IOException {
        TestTokenizers.sentencePiece(dir, true);
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"add_bos_token\": true, \"add_eos_token\": false}");
        Files.writeString(dir.resolve("special_tokens_map.json"),
                "{\"bos_token\": {\"content\": \"<s>\", \"special\": true}, \"eos_token\": \"</s>\"}");
        try (HfTokenizer tok = HfTokenizer.load(dir)) {
            assertThat(tok.bosToken()).isEqualTo("<s>");
            assertThat(tok.eosToken()).isEqualTo("</s>");
            assertThat(tok.eosTokenId()).hasValue(2);
            assertThat(tok.encode("x")[0]).isEqualTo(1);
        }
    }

    @Test
    void unigramVocabularyIsAList(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), """
                {"version": "1.0", "added_tokens": [], "normalizer": null, "pre_tokenizer": {"type": "WhitespaceSplit"},
                 "decoder": null,
                 "model": {"type": "Unigram", "unk_id": 0, "byte_fallback": false,
                           "vocab": [["<unk>", 0.0], ["a", -1.0], ["b", -2.0], ["ab", -0.5]]}}
                """);
        try (HfTokenizer tok = HfTokenizer.load(dir)) {
            assertThat(tok.vocabSize()).isEqualTo(4);
            assertThat(tok.tokenId("ab")).hasValue(3);
            assertThat(tok.encode("ab")).containsExactly(3);
        }
    }

    private static void copyTinyTokenizer(Path dir) throws IOException {
        Files.copy(TestTokenizers.tinyDir().resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
    }
}
