package dev.podserve.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

/**
 * The raw bytes each token stands for, which OpenAI's logprobs report as {@code bytes} so that a
 * client can rebuild characters split across tokens. Decoding one token alone cannot give them:
 * half of a UTF-8 character decodes to U+FFFD. They come from the vocabulary piece instead:
 * <ul>
 *   <li>added tokens (specials and others) are literal text;</li>
 *   <li>a byte-level vocabulary (GPT-2, Llama 3, Qwen) spells each byte with one printable
 *       stand-in character, which is mapped back;</li>
 *   <li>SentencePiece-style pieces are text with {@code ▁} for a space, and their
 *       {@code <0xNN>} byte-fallback tokens are that one byte.</li>
 * </ul>
 */
final class TokenBytes {

    /** Byte-level stand-in character → byte, -1 where a character stands for none. */
    private static final int[] STAND_IN_TO_BYTE = standInToByte();
    private static final char SPACE_MARK = '\u2581';

    private final TokenizerFiles files;
    /** The vocabulary piece or added token's content of each id [vocabSize]; null where the id has none. */
    private final String[] pieces;

    TokenBytes(TokenizerFiles files) {
        this.files = files;
        this.pieces = new String[files.vocabSize()];
        for (Map.Entry<String, Integer> e : files.vocab().entrySet()) {
            int id = e.getValue();
            // Where an added token repeats a piece's text the map kept one of the two ids; the
            // other has no piece here, and its caller falls back to decoding it.
            if (id >= 0 && id < pieces.length) pieces[id] = e.getKey();
        }
    }

    /** The token's bytes, or null for an id the vocabulary does not have. */
    byte[] of(int id) {
        if (id < 0 || id >= pieces.length || pieces[id] == null) return null;
        String piece = pieces[id];
        if (files.addedIds().get(id)) return piece.getBytes(StandardCharsets.UTF_8);
        if (files.byteLevel()) return fromStandIns(piece);
        if (files.byteFallbackIds().get(id)) return new byte[] {(byte) Integer.parseInt(piece.substring(3, 5), 16)};
        return piece.replace(SPACE_MARK, ' ').getBytes(StandardCharsets.UTF_8);
    }

    /** A byte-level piece back to bytes; a character outside the stand-in alphabet is kept as its UTF-8. */
    private static byte[] fromStandIns(String piece) {
        ByteArrayOutputStream out = new ByteArrayOutputStream(piece.length());
        for (int i = 0; i < piece.length(); ) {
            int c = piece.codePointAt(i);
            i += Character.charCount(c);
            int b = c < STAND_IN_TO_BYTE.length ? STAND_IN_TO_BYTE[c] : -1;
            if (b >= 0) {
                out.write(b);
            } else {
                byte[] utf8 = new String(Character.toChars(c)).getBytes(StandardCharsets.UTF_8);
                out.write(utf8, 0, utf8.length);
            }
        }
        return out.toByteArray();
    }

    /**
     * GPT-2's byte alphabet: the printable Latin-1 bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') stand for
     * themselves; the other 68 bytes, in increasing order, take the characters from U+0100 on.
     */
    private static int[] standInToByte() {
        int[] map = new int[256 + 68];
        Arrays.fill(map, -1);
        int next = 256;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            map[printable ? b : next++] = b;
        }
        return map;
    }
}
