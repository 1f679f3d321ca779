package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.podserve.api.dto.CompletionResponse;
import dev.podserve.engine.TokenLogprob;
import dev.podserve.tokenizer.HfTokenizer;

/**
 * Legacy completions' {@code text_offset} counts characters as OpenAI's and vLLM's Python servers
 * do: {@code len(token)}, code points, so a token outside the BMP (an emoji that is one token of
 * the vocabulary) moves the next offset by one, not by its two UTF-16 units.
 */
class TextOffsetCodePointsTest {

    @Test
    void aNonBmpTokenAdvancesTheOffsetByOneCharacter(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer.json"), """
                {"version": "1.0", "added_tokens": [], "normalizer": null, "pre_tokenizer": null,
                 "post_processor": null, "decoder": null,
                 "model": {"type": "WordLevel", "vocab": {"\\ud83d\\ude00": 0, "a": 1, "[UNK]": 2}, "unk_token": "[UNK]"}}""");
        try (HfTokenizer tok = HfTokenizer.load(dir)) {
            assertThat(LogprobsMapper.tokenText(tok, 0)).isEqualTo("\uD83D\uDE00");
            List<TokenLogprob> lps = List.of(new TokenLogprob(0, -0.1f, new int[0], new float[0]),
                    new TokenLogprob(1, -0.2f, new int[0], new float[0]),
                    new TokenLogprob(1, -0.3f, new int[0], new float[0]));
            CompletionResponse.CompletionLogprobs lp = LogprobsMapper.legacy(lps, tok, 0);
            // Python: len("\U0001F600") == 1, so "a" starts at 1 and the next "a" at 2.
            assertThat(lp.textOffset()).containsExactly(0, 1, 2);
        }
    }
}
