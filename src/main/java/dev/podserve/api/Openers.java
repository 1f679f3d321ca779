package dev.podserve.api;

import java.util.List;

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
}
