package dev.podserve.api;

import java.util.List;

import dev.podserve.tokenizer.HfTokenizer;

/**
 * Turns the JSON {@code prompt} of a text completion into token ids: a string is tokenized, a list
 * of integers is taken as ids; a one-element list holding either is unwrapped.
 */
final class PromptParser {

    private PromptParser() {
    }

    static int[] tokenIds(Object prompt, HfTokenizer tokenizer) {
        if (prompt == null) throw ApiException.badRequest("prompt", "'prompt' is required.");
        if (prompt instanceof String s) return tokenizer.encode(s);
        if (prompt instanceof List<?> list) {
            if (list.isEmpty()) throw ApiException.badRequest("prompt", "'prompt' must not be an empty list.");
            if (list.size() == 1 && (list.get(0) instanceof String || list.get(0) instanceof List<?>)) {
                return tokenIds(list.get(0), tokenizer);
            }
            int[] ids = new int[list.size()];
            for (int i = 0; i < ids.length; i++) {
                Object o = list.get(i);
                if (!(o instanceof Number n) || n.doubleValue() != Math.rint(n.doubleValue())
                        || Math.abs(n.doubleValue()) > Integer.MAX_VALUE) {
                    throw ApiException.badRequest("prompt", o instanceof String || o instanceof List<?>
                            ? "Several prompts in one request are not supported yet; send one prompt per request."
                            : "'prompt' must be a string or a list of integer token ids; element " + i + " is " + o + ".");
                }
                ids[i] = n.intValue();
            }
            return ids;
        }
        throw ApiException.badRequest("prompt", "'prompt' must be a string or a list of integer token ids.");
    }
}
