package dev.podserve.engine;

import java.util.List;

/**
 * Finds stop strings in streamed text without ever letting one out. A stop string can straddle
 * token boundaries, so a tail of the text that is the beginning of some stop string is held back
 * until more text shows whether it completes; everything after the match is dropped, and the match
 * too unless the request keeps it ({@code include_stop_str_in_output}).
 */
final class StopStringMatcher {

    private final List<String> stops;
    private final int holdBack;
    private final boolean keepMatch;
    private final StringBuilder pending = new StringBuilder();
    private boolean stopped;
    /** The stop string {@link #earliestMatchEndingAfter} found last. */
    private String matched;

    StopStringMatcher(List<String> stops) {
        this(stops, false);
    }

    /** @param keepMatch whether the text goes out up to the end of the stop string found, not its start */
    StopStringMatcher(List<String> stops, boolean keepMatch) {
        this.stops = List.copyOf(stops);
        this.keepMatch = keepMatch;
        this.holdBack = stops.stream().mapToInt(String::length).max().orElse(1) - 1;
    }

    /**
     * Adds newly decoded text; returns the part that can be emitted now. With {@code match} false
     * the text is only held back, not searched (before {@code min_tokens} is reached).
     */
    String offer(String text, boolean match) {
        if (stopped) return "";
        // What is held already was searched, or came before min_tokens and must not stop the
        // generation by itself: only a match that ends in the new text counts (as in vLLM).
        int old = pending.length();
        pending.append(text);
        int cut = match ? earliestMatchEndingAfter(old) : -1;
        if (cut >= 0) {
            stopped = true;
            if (keepMatch) cut += matched.length();
            String out = pending.substring(0, cut);
            pending.setLength(0);
            return out;
        }
        int safe = pending.length() - partialMatchLength();
        // Never split a surrogate pair between what goes out and what stays.
        if (safe > 0 && Character.isHighSurrogate(pending.charAt(safe - 1))) safe--;
        if (safe <= 0) return "";
        String out = pending.substring(0, safe);
        pending.delete(0, safe);
        return out;
    }

    /** Adds the final text of the generation and returns everything still held, up to a stop string. */
    String finish(String tail) {
        String out = offer(tail, true);
        if (stopped) return out;
        String rest = pending.toString();
        pending.setLength(0);
        return out + rest;
    }

    /** True once a stop string was found: the generation must end. */
    boolean stopped() {
        return stopped;
    }

    /** The stop string that ended the text (the one it was cut at), once {@link #stopped}; else null. */
    String stoppedAt() {
        return stopped ? matched : null;
    }

    /** Length of the longest tail of the pending text that could still grow into a stop string. */
    private int partialMatchLength() {
        int len = pending.length();
        for (int k = Math.min(holdBack, len); k > 0; k--) {
            for (String s : stops) {
                if (s.length() > k && tailStartsWith(len - k, s, k)) return k;
            }
        }
        return 0;
    }

    private boolean tailStartsWith(int from, String stop, int k) {
        for (int i = 0; i < k; i++) {
            if (pending.charAt(from + i) != stop.charAt(i)) return false;
        }
        return true;
    }

    /**
     * The earliest start of a stop string that ends after {@code old}, or -1; the shortest of those
     * starting there is {@link #matched} (it is the one the text completed first).
     */
    private int earliestMatchEndingAfter(int old) {
        int best = -1;
        for (String s : stops) {
            int at = pending.indexOf(s, Math.max(0, old - s.length() + 1));
            if (at >= 0 && (best < 0 || at < best || (at == best && s.length() < matched.length()))) {
                best = at;
                matched = s;
            }
        }
        return best;
    }
}
