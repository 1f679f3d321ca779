package dev.podserve.api;

import java.util.List;

import dev.podserve.api.ToolCallText.Content;
import dev.podserve.api.ToolCallText.Piece;

/**
 * Where a call's opener stands in the text a {@link CallReader} has not passed on yet: every reader
 * streams content up to an opener and holds back only an end of the text that may still grow into one.
 */
final class Openers {

    private Openers() {
    }

    /** {start, length} of the earliest opener in {@code pending}, or null. */
    static int[] first(StringBuilder pending, List<String> openers) {
        int[] best = null;
        for (String o : openers) {
            int at = pending.indexOf(o);
            if (at >= 0 && (best == null || at < best[0])) best = new int[] {at, o.length()};
        }
        return best;
    }

    /** Length of the longest end of {@code pending} that an opener begins with (but is not all of). */
    static int heldPrefix(StringBuilder pending, List<String> openers) {
        int n = pending.length();
        int hold = 0;
        for (String o : openers) {
            for (int k = Math.min(o.length() - 1, n); k > hold; k--) {
                if (pending.substring(n - k).equals(o.substring(0, k))) {
                    hold = k;
                    break;
                }
            }
        }
        return hold;
    }

    /** Whether {@code rest} starts with one of the openers. */
    static boolean startsOne(String rest, List<String> openers) {
        return openers.stream().anyMatch(rest::startsWith);
    }

    /** Whether {@code rest} is, so far, the beginning of one of the openers (it may still become one). */
    static boolean begunBy(String rest, List<String> openers) {
        return openers.stream().anyMatch(o -> o.startsWith(rest));
    }

    /**
     * A reader's content step: gives out {@code pending}'s text up to its first opener as content and
     * returns that opener, both taken from {@code pending}; with no opener in it, gives out all but an
     * end that may still grow into one (all of it {@code atEnd}) and returns null.
     */
    static String contentUpToOpener(StringBuilder pending, List<String> openers, boolean atEnd, List<Piece> out) {
        int[] found = first(pending, openers);
        if (found == null) {
            int hold = atEnd ? 0 : heldPrefix(pending, openers);
            content(out, pending.substring(0, pending.length() - hold));
            pending.delete(0, pending.length() - hold);
            return null;
        }
        content(out, pending.substring(0, found[0]));
        String opener = pending.substring(found[0], found[0] + found[1]);
        pending.delete(0, found[0] + found[1]);
        return opener;
    }

    /** Text as a content piece; nothing for no text. */
    static void content(List<Piece> out, String text) {
        if (!text.isEmpty()) out.add(new Content(text));
    }
}
