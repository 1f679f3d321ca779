package dev.podserve.api;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.podserve.api.dto.ChatLogprobs;
import dev.podserve.api.dto.CompletionResponse;
import dev.podserve.engine.TokenLogprob;
import dev.podserve.tokenizer.HfTokenizer;

/** The engine's log-probabilities in the two wire shapes: chat's and legacy completions'. */
final class LogprobsMapper {

    private LogprobsMapper() {
    }

    /** JSON has no infinity; a masked token's log-probability is sent as vLLM sends it. */
    static float finite(float logprob) {
        return Math.max(logprob, -9999f);
    }

    static String tokenText(HfTokenizer tok, int id) {
        return tok.decode(new int[] {id}, false);
    }

    /** The token's own bytes, not its decoded text's: half a character must not become U+FFFD's three. */
    private static List<Integer> bytes(HfTokenizer tok, int id) {
        byte[] b = tok.tokenBytes(id);
        List<Integer> out = new ArrayList<>(b.length);
        for (byte x : b) out.add(x & 0xff);
        return out;
    }

    static ChatLogprobs chat(List<TokenLogprob> lps, HfTokenizer tok) {
        List<ChatLogprobs.TokenEntry> content = new ArrayList<>(lps.size());
        for (TokenLogprob lp : lps) {
            String t = tokenText(tok, lp.token());
            List<ChatLogprobs.Alternative> top = new ArrayList<>(lp.topTokens().length);
            for (int k = 0; k < lp.topTokens().length; k++) {
                String alt = tokenText(tok, lp.topTokens()[k]);
                top.add(new ChatLogprobs.Alternative(alt, finite(lp.topLogprobs()[k]), bytes(tok, lp.topTokens()[k])));
            }
            content.add(new ChatLogprobs.TokenEntry(t, finite(lp.logprob()), bytes(tok, lp.token()), top));
        }
        return new ChatLogprobs(content);
    }

    /**
     * Legacy shape: per token its text, its logprob, its top alternatives and its character offset,
     * counting from {@code offset} (the text already sent for this choice).
     */
    static CompletionResponse.CompletionLogprobs legacy(List<TokenLogprob> lps, HfTokenizer tok, int offset) {
        List<String> tokens = new ArrayList<>();
        List<Float> values = new ArrayList<>();
        List<Map<String, Float>> tops = new ArrayList<>();
        List<Integer> offsets = new ArrayList<>();
        for (TokenLogprob lp : lps) {
            String t = tokenText(tok, lp.token());
            tokens.add(t);
            values.add(finite(lp.logprob()));
            Map<String, Float> top = new LinkedHashMap<>();
            for (int k = 0; k < lp.topTokens().length; k++) {
                top.putIfAbsent(tokenText(tok, lp.topTokens()[k]), finite(lp.topLogprobs()[k]));
            }
            tops.add(top);
            offsets.add(offset);
            offset += t.length();
        }
        return new CompletionResponse.CompletionLogprobs(tokens, values, tops, offsets);
    }
}
