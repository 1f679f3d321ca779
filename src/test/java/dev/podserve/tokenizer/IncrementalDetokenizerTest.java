package dev.podserve.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class IncrementalDetokenizerTest {

    private final HfTokenizer tiny = TestTokenizers.tiny();

    @Test
    void randomByteTokensStreamToTheWholeDecode() {
        Random random = new Random(11);
        for (int n = 0; n < 2000; n++) {
            int[] ids = new int[1 + random.nextInt(40)];
            for (int i = 0; i < ids.length; i++) {
                // Mostly bytes of multi-byte characters (valid, cut short, or stray), some ASCII and special tokens.
                int kind = random.nextInt(10);
                ids[i] = kind < 6 ? 0x80 + random.nextInt(0x80) : kind < 9 ? random.nextInt(0x80) : 256 + random.nextInt(3);
            }
            assertStreamsExactly(tiny, new int[] {7, 8}, ids, random.nextBoolean());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"héllo wörld", "😀🎉👍🏽 family: 👨‍👩‍👧", "中文字符 日本語 한국어", "e\u0301 a\u0308 n\u0303", "𝕏𝔸 math",
            "mixed: ASCII, Кириллица, العربية, עברית, ไทย"})
    void validTextSplitIntoSingleBytesNeverEmitsPartialCharacters(String text) {
        IncrementalDetokenizer detok = new IncrementalDetokenizer(tiny, new int[] {1, 2, 3}, false);
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        StringBuilder streamed = new StringBuilder();
        for (byte b : bytes) {
            String piece = detok.push(b & 0xFF);
            assertThat(piece).doesNotContain("\uFFFD");
            // Each piece is whole characters: it survives a UTF-8 round trip unchanged.
            assertThat(new String(piece.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8)).isEqualTo(piece);
            if (!piece.isEmpty()) assertThat(Character.isLowSurrogate(piece.charAt(0))).isFalse();
            streamed.append(piece);
        }
        assertThat(streamed.toString()).isEqualTo(text);
        assertThat(detok.flush()).isEmpty();
    }

    @Test
    void aCharacterAppearsWithItsLastByte() {
        IncrementalDetokenizer detok = new IncrementalDetokenizer(tiny, new int[0], false);
        List<String> pieces = new ArrayList<>();
        for (int b : TestTokenizers.utf8("a😀b")) pieces.add(detok.push(b));
        assertThat(pieces).containsExactly("a", "", "", "", "😀", "b");
        assertThat(detok.flush()).isEmpty();
        assertThat(detok.generated()).containsExactly(TestTokenizers.utf8("a😀b"));
    }

    @Test
    void specialTokensAreKeptOrSkipped() {
        int[] ids = {TestTokenizers.IM_START, 'h', 'i', TestTokenizers.IM_END};
        assertThat(stream(tiny, ids, false)).isEqualTo("<|im_start|>hi<|im_end|>");
        assertThat(stream(tiny, ids, true)).isEqualTo("hi");
    }

    @Test
    void cutShortCharacterComesOutAtFlush() {
        IncrementalDetokenizer detok = new IncrementalDetokenizer(tiny, new int[0], false);
        assertThat(detok.push('a')).isEqualTo("a");
        assertThat(detok.push(0xE4)).isEmpty();
        assertThat(detok.push(0xB8)).isEmpty();
        assertThat(detok.flush()).isEqualTo("\uFFFD");
    }

    @Test
    void nothingGeneratedIsNothing() {
        IncrementalDetokenizer detok = new IncrementalDetokenizer(tiny, new int[] {5}, true);
        assertThat(detok.flush()).isEmpty();
        assertThat(detok.generated()).isEmpty();
    }

    @Test
    void sentencePieceKeepsSpacesBetweenWords(@TempDir Path dir) throws IOException {
        try (HfTokenizer sp = HfTokenizer.load(TestTokenizers.sentencePiece(dir, true))) {
            // Only the BOS as prompt, skipped: nothing precedes the first word, which keeps no space.
            IncrementalDetokenizer detok = new IncrementalDetokenizer(sp, new int[] {1}, true);
            List<String> pieces = new ArrayList<>();
            for (String t : List.of("▁Hello", "▁world", "!", "▁the", "▁é")) pieces.add(detok.push(sp.tokenId(t).getAsInt()));
            pieces.add(detok.flush());
            assertThat(pieces).containsExactly("Hello", " world", "!", " the", " é", "");
        }
    }

    /**
     * SentencePiece decoders drop the space of a decode's first word; after a prompt the first
     * generated word keeps it, as vLLM (primed with the prompt) and OpenAI return it, so that
     * prompt plus completion is the whole text.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void theFirstWordAfterAPromptKeepsItsSpace(boolean legacy, @TempDir Path dir) throws IOException {
        try (HfTokenizer sp = HfTokenizer.load(TestTokenizers.sentencePiece(dir, legacy))) {
            int[] prompt = {1, sp.tokenId("▁the").getAsInt()};
            int[] out = {sp.tokenId("▁Hello").getAsInt(), sp.tokenId("▁world").getAsInt()};
            for (boolean skip : new boolean[] {true, false}) {
                IncrementalDetokenizer detok = new IncrementalDetokenizer(sp, prompt, skip);
                assertThat(detok.push(out[0])).isEqualTo(" Hello");
                assertThat(detok.push(out[1])).isEqualTo(" world");
                assertThat(detok.flush()).isEmpty();
                assertThat(detok.generated()).containsExactly(out);
                int[] whole = {prompt[0], prompt[1], out[0], out[1]};
                assertThat(sp.decode(prompt, skip) + " Hello world").isEqualTo(sp.decode(whole, skip));
            }
        }
    }

    /**
     * A prompt ending in byte-fallback tokens (a whole character), then a stray lead byte: the run
     * breaks into one U+FFFD per byte, the prompt's included. Primed, the stream would hold back to
     * the end; unprimed, it goes on as the output alone decodes.
     */
    @Test
    void aPromptEndingInByteTokensDoesNotPrime(@TempDir Path dir) throws IOException {
        try (HfTokenizer sp = HfTokenizer.load(TestTokenizers.sentencePiece(dir, true))) {
            int the = sp.tokenId("▁the").getAsInt();
            int[] prompt = {1, the, sp.tokenId("<0xE9>").getAsInt(), sp.tokenId("<0xBE>").getAsInt(), sp.tokenId("<0x98>").getAsInt()};
            int[] out = {sp.tokenId("<0xE4>").getAsInt(), the, sp.tokenId("▁Hello").getAsInt(), sp.tokenId("▁world").getAsInt()};
            IncrementalDetokenizer detok = new IncrementalDetokenizer(sp, prompt, true);
            List<String> pieces = new ArrayList<>();
            for (int id : out) pieces.add(detok.push(id));
            pieces.add(detok.flush());
            assertThat(pieces.subList(2, 4)).containsExactly(" Hello", " world");
            assertThat(String.join("", pieces)).isEqualTo(sp.decode(out, true));
        }
    }

    @Test
    void aPromptEndingInsideACharacterDoesNotPrime() {
        // The prompt's last byte starts a two-byte character: its decode ends in U+FFFD, and the
        // output is decoded alone (its first byte is then a stray continuation byte).
        IncrementalDetokenizer detok = new IncrementalDetokenizer(tiny, new int[] {'a', 0xC3}, false);
        StringBuilder sb = new StringBuilder();
        for (int b : new int[] {0xA9, 'b'}) sb.append(detok.push(b));
        sb.append(detok.flush());
        assertThat(sb.toString()).isEqualTo(tiny.decode(new int[] {0xA9, 'b'}, false)).endsWith("b");
    }

    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void randomSentencePieceTokensStreamToTheWholeDecode(boolean legacy, @TempDir Path dir) throws IOException {
        try (HfTokenizer sp = HfTokenizer.load(TestTokenizers.sentencePiece(dir, legacy))) {
            int pieces = 3 + 256 + TestTokenizers.PIECES.size();
            Random random = new Random(legacy ? 3 : 4);
            for (int n = 0; n < 1500; n++) {
                int[] ids = new int[1 + random.nextInt(30)];
                for (int i = 0; i < ids.length; i++) {
                    int kind = random.nextInt(10);
                    // Word pieces, byte tokens (valid runs and broken ones), and the special tokens.
                    ids[i] = kind < 5 ? 259 + random.nextInt(pieces - 259) : kind < 9 ? 3 + random.nextInt(256) : random.nextInt(3);
                }
                assertStreamsExactly(sp, new int[] {1, sp.tokenId("▁the").getAsInt(), sp.tokenId(",").getAsInt()}, ids,
                        random.nextBoolean());
            }
        }
    }

    @Test
    void byteFallbackRunIsHeldUntilItEnds(@TempDir Path dir) throws IOException {
        try (HfTokenizer sp = HfTokenizer.load(TestTokenizers.sentencePiece(dir, true))) {
            int a = sp.tokenId("<0x41>").getAsInt();
            int lead = sp.tokenId("<0xC3>").getAsInt();
            int world = sp.tokenId("▁world").getAsInt();
            // A lone "A" byte token decodes to "A", but followed by a stray lead byte the whole run is two U+FFFD.
            assertThat(stream(sp, new int[] {world, a, lead, world}, false)).isEqualTo("world\uFFFD\uFFFD world");
            IncrementalDetokenizer detok = new IncrementalDetokenizer(sp, new int[0], false);
            assertThat(detok.push(world)).isEqualTo("world");
            assertThat(detok.push(a)).isEmpty();
            assertThat(detok.push(world)).isEqualTo("A world");
        }
    }

    private static String stream(HfTokenizer tok, int[] ids, boolean skip) {
        IncrementalDetokenizer detok = new IncrementalDetokenizer(tok, new int[0], skip);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) sb.append(detok.push(id));
        return sb.append(detok.flush()).toString();
    }

    /**
     * Streams {@code ids} after {@code prompt} (which ends in whole characters and no byte-fallback
     * token, so it primes) and after none: the pieces must add up to what the tokens add to the
     * prompt's decode, and to the plain decode. Where the decoder rewrites the prompt's text anyway,
     * the output is what follows the part both decodes share.
     */
    private static void assertStreamsExactly(HfTokenizer tok, int[] prompt, int[] ids, boolean skip) {
        int[] whole = new int[prompt.length + ids.length];
        System.arraycopy(prompt, 0, whole, 0, prompt.length);
        System.arraycopy(ids, 0, whole, prompt.length, ids.length);
        String promptText = tok.decode(prompt, skip);
        String wholeText = tok.decode(whole, skip);
        int shared = 0;
        while (shared < Math.min(promptText.length(), wholeText.length()) && promptText.charAt(shared) == wholeText.charAt(shared)) {
            shared++;
        }
        assertThat(streamAfter(tok, prompt, ids, skip)).as("ids %s, skip %s", Arrays.toString(ids), skip)
                .isEqualTo(wholeText.substring(shared));
        assertThat(streamAfter(tok, new int[0], ids, skip)).as("ids %s, skip %s, no prompt", Arrays.toString(ids), skip)
                .isEqualTo(tok.decode(ids, skip));
    }

    private static String streamAfter(HfTokenizer tok, int[] prompt, int[] ids, boolean skip) {
        IncrementalDetokenizer detok = new IncrementalDetokenizer(tok, prompt, skip);
        StringBuilder sb = new StringBuilder();
        for (int id : ids) sb.append(detok.push(id));
        sb.append(detok.flush());
        assertThat(detok.generated()).containsExactly(ids);
        return sb.toString();
    }
}
