package dev.podserve.api;

import java.util.ArrayList;
import java.util.List;

import dev.podserve.tokenizer.HfTokenizer;

/**
 * The JSON {@code prompt} of a text completion, in any of OpenAI's four shapes: a string, a list
 * of strings, a list of token ids, or a list of token-id lists. Each becomes one prompt.
 */
final class PromptParser {

    /** One prompt: its token ids and the text it stands for (for {@code echo}). */
    record Prompt(int[] ids, String text) {
    }

    private PromptParser() {
    }

    static List<Prompt> parse(Object prompt, HfTokenizer tokenizer) {
        if (prompt == null) throw ApiException.badRequest("prompt", "prompt is required.");
        if (prompt instanceof String s) return List.of(new Prompt(tokenizer.encode(s), s));
        if (!(prompt instanceof List<?> list)) {
            throw ApiException.badRequest("prompt", "prompt must be a string, a list of strings, a list of token ids or a list of such lists.");
        }
        if (list.isEmpty()) throw ApiException.badRequest("prompt", "prompt must not be an empty list.");
        if (list.get(0) instanceof Number) return List.of(ids(list, tokenizer, -1));
        List<Prompt> out = new ArrayList<>(list.size());
        for (int i = 0; i < list.size(); i++) {
            Object o = list.get(i);
            if (o instanceof String s) out.add(new Prompt(tokenizer.encode(s), s));
            else if (o instanceof List<?> ids && !ids.isEmpty()) out.add(ids(ids, tokenizer, i));
            else throw ApiException.badRequest("prompt", "prompt[" + i + "] must be a string or a non-empty list of token ids.");
        }
        return out;
    }

    private static Prompt ids(List<?> list, HfTokenizer tokenizer, int which) {
        int[] ids = new int[list.size()];
        for (int i = 0; i < ids.length; i++) {
            Object o = list.get(i);
            if (!(o instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue()) || Math.abs(n.doubleValue()) > Integer.MAX_VALUE) {
                String where = which < 0 ? "prompt[" + i + "]" : "prompt[" + which + "][" + i + "]";
                throw ApiException.badRequest("prompt", where + " must be an integer token id; got " + o + ".");
            }
            ids[i] = n.intValue();
        }
        return new Prompt(ids, null);
    }
}
