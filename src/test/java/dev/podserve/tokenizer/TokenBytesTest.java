package dev.podserve.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link HfTokenizer#tokenBytes}: a token's raw bytes, checked against what they must add up to
 * (the text a sequence encodes) rather than against a second copy of the stand-in table.
 */
class TokenBytesTest {

    /** The embedded tokenizer's 256 byte tokens are the bytes in order: id b is byte b. */
    @Test
    void theTinyTokenizersByteTokensAreTheirBytes() {
        HfTokenizer tok = TestTokenizers.tiny();
        for (int b = 0; b < 256; b++) {
            assertThat(tok.tokenBytes(b)).as("id %d", b).containsExactly((byte) b);
        }
        // 0xC3 alone is half of 'é': decoding it gives U+FFFD, its bytes stay the one byte.
        assertThat(tok.decode(new int[] {0xC3}, false)).isEqualTo("\uFFFD");
        assertThat(tok.tokenBytes(TestTokenizers.IM_END)).isEqualTo("<|im_end|>".getBytes(StandardCharsets.UTF_8));
    }

    /**
     * A byte-level BPE with merges (the llama3 fixture): for random text with multi-byte characters,
     * the tokens' bytes joined are exactly the text's UTF-8, even where a token splits a character.
     */
    @Test
    void byteLevelPiecesAddUpToTheText() throws Exception {
        try (HfTokenizer tok = HfTokenizer.load(fixture("llama3-gqa"))) {
            Random rnd = new Random(20261127L);
            String[] alphabet = {"a", "b", " ", "e", "é", "ö", "你", "好", "🙂", "\n", "th", "the ", "ing", "ß", "€"};
            boolean split = false;
            for (int trial = 0; trial < 300; trial++) {
                StringBuilder text = new StringBuilder();
                for (int i = 1 + rnd.nextInt(30); i > 0; i--) text.append(alphabet[rnd.nextInt(alphabet.length)]);
                int[] ids = tok.encodeNoSpecial(text.toString());
                ByteArrayOutputStream joined = new ByteArrayOutputStream();
                for (int id : ids) {
                    byte[] b = tok.tokenBytes(id);
                    joined.writeBytes(b);
                    split |= tok.decode(new int[] {id}, false).contains("\uFFFD");
                }
                assertThat(joined.toByteArray()).as("%s -> %s", text, java.util.Arrays.toString(ids))
                        .isEqualTo(tok.decode(ids, false).getBytes(StandardCharsets.UTF_8));
            }
            // The point of the field: some token cut a character in two and still had its true bytes.
            assertThat(split).isTrue();
        }
    }

    /** SentencePiece-style: ▁ is a space, {@code <0xNN>} is its byte, specials are their text. */
    @Test
    void sentencePiecePiecesAndByteFallback(@TempDir Path dir) throws IOException {
        try (HfTokenizer tok = HfTokenizer.load(TestTokenizers.sentencePiece(dir, true))) {
            assertThat(tok.tokenBytes(tok.tokenId("▁Hello").getAsInt())).isEqualTo(" Hello".getBytes(StandardCharsets.UTF_8));
            assertThat(tok.tokenBytes(tok.tokenId("<0xE4>").getAsInt())).containsExactly((byte) 0xE4);
            assertThat(tok.tokenBytes(tok.tokenId("é").getAsInt())).containsExactly((byte) 0xC3, (byte) 0xA9);
            assertThat(tok.tokenBytes(1)).isEqualTo("<s>".getBytes(StandardCharsets.UTF_8));
        }
    }

    private static Path fixture(String name) throws URISyntaxException {
        return Path.of(TokenBytesTest.class.getClassLoader().getResource("fixtures/" + name + "/tokenizer.json").toURI()).getParent();
    }
}
