package dev.podserve.api;

import java.util.ArrayList;
import java.util.List;

import dev.podserve.api.dto.ChatCompletionResponse.Function;
import dev.podserve.api.dto.ChatCompletionResponse.ToolCall;

import tools.jackson.databind.JsonNode;

/**
 * Reads one choice's answer, as it streams, into content and tool calls in the model's own
 * {@link ToolCallFormat} ({@code tool_choice: "auto"}). Text that may still turn out to open a call
 * (the first bytes of an opener) is held back until it is known; a call goes out once its JSON
 * closes. Nothing is lost: an opener followed by something other than a call, or a call cut short
 * by the end of the answer, comes back as content, word for word. The same reader serves streamed
 * and whole responses, so both read an answer alike.
 */
final class ToolCallText {

    /** What the answer read so far gives: content and calls, in the order they came. */
    sealed interface Piece permits Content, Call {
    }

    record Content(String text) implements Piece {
    }

    record Call(ToolCall call) implements Piece {
    }

    private enum Phase { START, CONTENT, CALL, AFTER }

    private final ToolCallFormat format;
    private Phase phase;
    /** Text read but not yet given out: held content, a call's JSON so far, or what follows a call. */
    private final StringBuilder pending = new StringBuilder();
    /** What opened the call in {@link #pending}, given back as content if no call follows (at the start: the blanks before it). */
    private String opener = "";
    private int calls;
    /** AFTER: whether the call's closer has been read. */
    private boolean closed;

    ToolCallText(ToolCallFormat format) {
        this.format = format;
        this.phase = format.atStart() ? Phase.START : Phase.CONTENT;
    }

    /** Calls given out so far. */
    int calls() {
        return calls;
    }

    /** Takes the next piece of the answer; returns what can go out now. */
    List<Piece> feed(String text) {
        pending.append(text);
        List<Piece> out = new ArrayList<>(2);
        read(out, false);
        return out;
    }

    /** The answer has ended: gives out everything still held. */
    List<Piece> finish() {
        List<Piece> out = new ArrayList<>(2);
        read(out, true);
        if (phase == Phase.CALL) content(out, opener + pending);
        else if (phase != Phase.AFTER || !blank(pending)) content(out, pending.toString());
        pending.setLength(0);
        return out;
    }

    /** The whole answer at once: its content (null where it is only blanks around calls) and calls. */
    static Whole read(ToolCallFormat format, String answer) {
        ToolCallText reader = new ToolCallText(format);
        List<Piece> pieces = new ArrayList<>(reader.feed(answer));
        pieces.addAll(reader.finish());
        StringBuilder content = new StringBuilder();
        List<ToolCall> calls = new ArrayList<>();
        for (Piece p : pieces) {
            if (p instanceof Content c) content.append(c.text());
            else calls.add(((Call) p).call());
        }
        String text = content.toString();
        return new Whole(calls.isEmpty() || !blank(text) ? text : null, calls);
    }

    record Whole(String content, List<ToolCall> calls) {
    }

    /** Moves through {@link #pending} as far as it is known; at the end, as far as it goes. */
    private void read(List<Piece> out, boolean atEnd) {
        while (true) {
            switch (phase) {
                case START -> {
                    int i = skipBlanks(0);
                    if (i == pending.length()) return;
                    if (pending.charAt(i) == '{') {
                        // The blanks go back with the text if no call follows.
                        opener = pending.substring(0, i);
                        pending.delete(0, i);
                        phase = Phase.CALL;
                    } else {
                        phase = Phase.CONTENT;
                    }
                }
                case CONTENT -> {
                    int[] found = firstOpener();
                    if (found == null) {
                        int hold = atEnd ? 0 : heldOpenerPrefix();
                        content(out, pending.substring(0, pending.length() - hold));
                        pending.delete(0, pending.length() - hold);
                        return;
                    }
                    content(out, pending.substring(0, found[0]));
                    opener = pending.substring(found[0], found[0] + found[1]);
                    pending.delete(0, found[0] + found[1]);
                    phase = Phase.CALL;
                }
                case CALL -> {
                    int end = jsonEnd();
                    if (end == 0) return;
                    List<ToolCall> read = end > 0 ? calls(pending.substring(0, end)) : null;
                    if (read == null) {
                        // Not a call after all: the opener is content, and what follows is read again as content.
                        content(out, opener);
                        phase = Phase.CONTENT;
                        continue;
                    }
                    for (ToolCall c : read) out.add(new Call(c));
                    calls += read.size();
                    pending.delete(0, end);
                    phase = Phase.AFTER;
                    closed = false;
                }
                case AFTER -> {
                    int i = skipBlanks(0);
                    String rest = pending.substring(i);
                    if (!closed && format.closer() != null && rest.startsWith(format.closer())) {
                        // One closer per call; a second one is text.
                        pending.delete(0, i + format.closer().length());
                        closed = true;
                        continue;
                    }
                    if (format.separator() != null && rest.startsWith(format.separator())) {
                        opener = pending.substring(0, i + format.separator().length());
                        pending.delete(0, i + format.separator().length());
                        phase = Phase.CALL;
                        continue;
                    }
                    if (startsWithOpener(rest)) {
                        // Blanks between two calls are not content.
                        pending.delete(0, i);
                        phase = Phase.CONTENT;
                        continue;
                    }
                    if (rest.isEmpty() || (!atEnd && beginsSomethingAfterACall(rest))) return;
                    // Neither a closer, a separator nor another call: content again, blanks and all.
                    phase = Phase.CONTENT;
                }
            }
        }
    }

    private void content(List<Piece> out, String text) {
        if (!text.isEmpty()) out.add(new Content(text));
    }

    /** Past JSON's four blanks only, as the grammar and the token-level matcher count them. */
    private int skipBlanks(int i) {
        while (i < pending.length() && blank(pending.charAt(i))) i++;
        return i;
    }

    static boolean blank(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
    }

    /** Whether the text is only blanks (or empty). */
    static boolean blank(CharSequence text) {
        for (int i = 0; i < text.length(); i++) {
            if (!blank(text.charAt(i))) return false;
        }
        return true;
    }

    /** {start, length} of the first opener in {@link #pending}, or null. */
    private int[] firstOpener() {
        int[] best = null;
        for (String o : format.openers()) {
            int at = pending.indexOf(o);
            if (at >= 0 && (best == null || at < best[0])) best = new int[] {at, o.length()};
        }
        return best;
    }

    /** Length of the longest end of {@link #pending} that an opener begins with (but is not all of). */
    private int heldOpenerPrefix() {
        String text = pending.toString();
        int hold = 0;
        for (String o : format.openers()) {
            for (int k = Math.min(o.length() - 1, text.length()); k > hold; k--) {
                if (text.regionMatches(text.length() - k, o, 0, k)) {
                    hold = k;
                    break;
                }
            }
        }
        return hold;
    }

    private boolean startsWithOpener(String rest) {
        return format.openers().stream().anyMatch(rest::startsWith);
    }

    /** Whether {@code rest} is, so far, the beginning of a closer, a separator or an opener. */
    private boolean beginsSomethingAfterACall(String rest) {
        List<String> next = new ArrayList<>(format.openers());
        if (format.closer() != null && !closed) next.add(format.closer());
        if (format.separator() != null) next.add(format.separator());
        for (String s : next) {
            if (s.startsWith(rest)) return true;
        }
        return false;
    }

    /**
     * Where the JSON value at the start of {@link #pending} (after blanks) ends: its length with the
     * blanks; 0 while it is open; -1 where the text does not begin with an object or array.
     */
    private int jsonEnd() {
        int i = skipBlanks(0);
        if (i == pending.length()) return 0;
        char first = pending.charAt(i);
        if (first != (format.array() ? '[' : '{')) return -1;
        int depth = 0;
        boolean inString = false;
        for (; i < pending.length(); i++) {
            char c = pending.charAt(i);
            if (inString) {
                if (c == '\\') i++;
                else if (c == '"') inString = false;
            } else if (c == '"') {
                inString = true;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if ((c == '}' || c == ']') && --depth == 0) {
                return i + 1;
            }
        }
        return 0;
    }

    /** The calls a closed JSON value holds, or null where it is not one call (or an array of them) as the format writes them. */
    private List<ToolCall> calls(String json) {
        JsonNode node;
        try {
            node = ToolCallAnswers.JSON.readTree(json);
        } catch (RuntimeException e) {
            return null;
        }
        List<JsonNode> items = new ArrayList<>();
        if (format.array()) {
            if (!node.isArray() || node.isEmpty()) return null;
            node.forEach(items::add);
        } else {
            items.add(node);
        }
        List<ToolCall> out = new ArrayList<>(items.size());
        for (JsonNode c : items) {
            if (!c.isObject() || !c.path("name").isString()) return null;
            JsonNode args = c.has(format.argumentsKey()) ? c.get(format.argumentsKey()) : c.get("arguments");
            String arguments = args == null || args.isNull() ? "{}" : args.isString() ? args.stringValue()
                    : ToolCallAnswers.JSON.writeValueAsString(args);
            out.add(new ToolCall(ToolCallAnswers.newId(), "function", new Function(c.get("name").stringValue(), arguments)));
        }
        return out;
    }
}
