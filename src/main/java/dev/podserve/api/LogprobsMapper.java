package dev.podserve.api;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.podserve.api.dto.ChatLogprobs;
import dev.podserve.api.dto.CompletionResponse;
import dev.podserve.api.dto.PromptLogprob;
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

    /** A text's length as OpenAI's and vLLM's {@code text_offset} count it: Python's {@code len}, code points. */
    static int chars(String text) {
        return text.codePointCount(0, text.length());
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
        return legacy(-1, lps, tok, offset, Integer.MAX_VALUE, Integer.MAX_VALUE);
    }

    /**
     * The prompt's part of an echo's log-probabilities, in the legacy shape: every prompt token with
     * its text and offset from 0, the first without a logprob or alternatives (null: nothing comes
     * before it to score it against), the others as the engine scored them.
     *
     * @param scored entry i scores {@code prompt[i + 1]} ({@code RequestOutput.promptLogprobs})
     * @param top    alternatives to list (the scoring may have more, for {@code prompt_logprobs})
     * @param echoed the echoed prompt text's length in code points ({@link #chars}): offsets stop there, where the generated
     *               tokens' start, so they never run backwards (a BOS token's text, which the
     *               echoed string lacks, would otherwise push them past it)
     */
    static CompletionResponse.CompletionLogprobs legacyPrompt(int[] prompt, List<TokenLogprob> scored, HfTokenizer tok, int top,
                                                              int echoed) {
        requireAligned(prompt, scored);
        return legacy(prompt[0], scored, tok, 0, top, echoed);
    }

    /**
     * The legacy lists: {@code unscored} first when it is a token id (with null for its logprob and
     * alternatives), then each of {@code lps} with at most {@code top} alternatives; offsets count
     * from {@code offset} and stop at {@code maxOffset}.
     */
    private static CompletionResponse.CompletionLogprobs legacy(int unscored, List<TokenLogprob> lps, HfTokenizer tok, int offset,
                                                                int top, int maxOffset) {
        int n = lps.size() + (unscored >= 0 ? 1 : 0);
        List<String> tokens = new ArrayList<>(n);
        List<Float> values = new ArrayList<>(n);
        List<Map<String, Float>> tops = new ArrayList<>(n);
        List<Integer> offsets = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            TokenLogprob lp = unscored < 0 ? lps.get(i) : i == 0 ? null : lps.get(i - 1);
            String t = tokenText(tok, lp == null ? unscored : lp.token());
            tokens.add(t);
            values.add(lp == null ? null : finite(lp.logprob()));
            tops.add(lp == null ? null : topMap(lp, tok, top));
            offsets.add(Math.min(offset, maxOffset));
            offset += chars(t);
        }
        return new CompletionResponse.CompletionLogprobs(tokens, values, tops, offsets);
    }

    /** {@code first}'s lists followed by {@code then}'s. */
    static CompletionResponse.CompletionLogprobs concat(CompletionResponse.CompletionLogprobs first,
                                                        CompletionResponse.CompletionLogprobs then) {
        return new CompletionResponse.CompletionLogprobs(join(first.tokens(), then.tokens()),
                join(first.tokenLogprobs(), then.tokenLogprobs()), join(first.topLogprobs(), then.topLogprobs()),
                join(first.textOffset(), then.textOffset()));
    }

    private static <T> List<T> join(List<T> a, List<T> b) {
        List<T> out = new ArrayList<>(a.size() + b.size());
        out.addAll(a);
        out.addAll(b);
        return out;
    }

    /**
     * vLLM's {@code prompt_logprobs}: null for the first prompt token, then per position a map by
     * token id of the prompt token (with its own rank) and the {@code top} likeliest tokens (ranks
     * 1..top; the prompt token keeps its entry where it is among them).
     */
    static List<Map<String, PromptLogprob>> vllmPrompt(int[] prompt, List<TokenLogprob> scored, HfTokenizer tok, int top) {
        requireAligned(prompt, scored);
        List<Map<String, PromptLogprob>> out = new ArrayList<>(prompt.length);
        out.add(null);
        for (TokenLogprob lp : scored) {
            Map<String, PromptLogprob> at = new LinkedHashMap<>();
            at.put(Integer.toString(lp.token()), new PromptLogprob(finite(lp.logprob()), lp.rank(), tokenText(tok, lp.token())));
            for (int k = 0; k < Math.min(top, lp.topTokens().length); k++) {
                int id = lp.topTokens()[k];
                at.putIfAbsent(Integer.toString(id), new PromptLogprob(finite(lp.topLogprobs()[k]), k + 1, tokenText(tok, id)));
            }
            out.add(at);
        }
        return out;
    }

    private static void requireAligned(int[] prompt, List<TokenLogprob> scored) {
        if (scored.size() != prompt.length - 1) {
            throw new IllegalStateException(scored.size() + " prompt log-probabilities for a prompt of " + prompt.length + " tokens");
        }
    }

    /**
     * The first {@code count} alternatives by text, then the token itself; two ids that decode alike
     * keep the likelier one's value.
     */
    private static Map<String, Float> topMap(TokenLogprob lp, HfTokenizer tok, int count) {
        Map<String, Float> top = new LinkedHashMap<>();
        for (int k = 0; k < Math.min(count, lp.topTokens().length); k++) {
            top.putIfAbsent(tokenText(tok, lp.topTokens()[k]), finite(lp.topLogprobs()[k]));
        }
        // The token itself is always there, as OpenAI's legacy completions and vLLM send it: up to
        // count + 1 entries, so a consumer can compare it with the best (logprobs 0 gives it alone).
        top.putIfAbsent(tokenText(tok, lp.token()), finite(lp.logprob()));
        return top;
    }
}
