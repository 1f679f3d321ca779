package dev.podserve.api;

import java.util.ArrayList;
import java.util.List;

import dev.podserve.api.ToolCallText.CallArguments;
import dev.podserve.api.ToolCallText.CallStart;
import dev.podserve.api.ToolCallText.Piece;
import dev.podserve.api.dto.ChatCompletionResponse.Function;
import dev.podserve.api.dto.ChatCompletionResponse.ToolCall;

/**
 * Reads one choice's answer, as it streams, into content and tool calls written as Mistral's models
 * of tokenizer version 11 and later write them ({@link ToolCallFormat#MISTRAL_V11}): each call is its
 * opener, the function's name as plain text, {@code [ARGS]} and the arguments' JSON object,
 * <pre>
 * [TOOL_CALLS]get_weather[ARGS]{"city": "Paris"}[TOOL_CALLS]ping[ARGS]{}
 * </pre>
 * and some of these models write {@code [CALL_ID]ID} after the name, an id the reader passes over (the
 * server gives every call its own). {@code [TOOL_CALLS]} and {@code [ARGS]} are special tokens in these
 * tokenizers, but they are read as text, so a tokenizer that spells them out in pieces reads alike.
 * <p>
 * A call goes out once its name is whole, {@code [ARGS]} has come and its object has begun (a name is
 * one word, blanks around it dropped); its arguments then stream as they are written, exactly as
 * generated, up to the brace that closes the object (found by scanning the JSON: strings, their
 * escapes, nesting), so a call cut short by the end of the answer is still the call, its arguments
 * cut, and the answer did not end in calls. Before that point an opener followed by anything else (no
 * name, no {@code [ARGS]}, arguments that are no object) is content, word for word, and the text after
 * it is read again as content. No grammar binds these calls, so the reader also ends the answer after
 * the last call allowed ({@code parallel_tool_calls: false}).
 */
final class MistralCallText implements CallReader {

    /** Between some models' name and {@code [ARGS]}: the id they gave the call, which is not used. */
    static final String CALL_ID = "[CALL_ID]";

    private enum Phase { CONTENT, OPENED, ARGUMENTS, AFTER, DONE }

    private final ToolCallFormat format;
    /** Where a call's name ends and its arguments begin ({@code [ARGS]}). */
    private final String marker;
    /** Calls read at most; after the last, the answer is over (as a grammar ends a bound format's). -1: no limit. */
    private final int maxCalls;
    private Phase phase = Phase.CONTENT;
    /** Text read but not yet given out: held content, a call's head, its arguments, or what follows a call. */
    private final StringBuilder pending = new StringBuilder();
    /** What opened the call in {@link #pending}, given back as content if no call follows. */
    private String opener = "";
    private int calls;
    private boolean endedInArguments;
    /** ARGUMENTS: where the arguments have been given out up to, and scanned up to (indexes into {@link #pending}). */
    private int givenAt;
    private int scannedAt;
    /** ARGUMENTS: objects and arrays open, and where the scan stands in a string. */
    private int depth;
    private boolean inString;
    private boolean escaped;

    MistralCallText(ToolCallFormat format) {
        this(format, -1);
    }

    /** @param maxCalls -1: any number; 1 for {@code parallel_tool_calls: false} */
    MistralCallText(ToolCallFormat format, int maxCalls) {
        this.format = format;
        this.marker = format.argumentsMarker();
        this.maxCalls = maxCalls;
    }

    @Override
    public int calls() {
        return calls;
    }

    @Override
    public boolean endedInArguments() {
        return endedInArguments;
    }

    @Override
    public List<Piece> feed(String text) {
        pending.append(text);
        List<Piece> out = new ArrayList<>(2);
        read(out, false);
        return out;
    }

    @Override
    public List<Piece> finish() {
        List<Piece> out = new ArrayList<>(2);
        read(out, true);
        // Arguments that never closed went out as far as they were written: the call is not whole.
        endedInArguments = phase == Phase.ARGUMENTS;
        // All that can be left is blanks after a call, which are no content.
        pending.setLength(0);
        return out;
    }

    /** Moves through {@link #pending} as far as it is known; at the end, as far as it goes. */
    private void read(List<Piece> out, boolean atEnd) {
        while (true) {
            switch (phase) {
                case CONTENT -> {
                    String found = Openers.contentUpToOpener(pending, format.openers(), atEnd, out);
                    if (found == null) return;
                    opener = found;
                    phase = Phase.OPENED;
                }
                case OPENED -> {
                    Boolean call = callOpens(out, atEnd);
                    if (call == null) return;
                    if (!call) {
                        // Not a call after all: the opener is content, and what follows is read again as content.
                        Openers.content(out, opener);
                        phase = Phase.CONTENT;
                    }
                }
                case ARGUMENTS -> {
                    int end = scanArguments();
                    int to = end < 0 ? pending.length() : end;
                    if (to > givenAt) out.add(new CallArguments(calls - 1, pending.substring(givenAt, to)));
                    givenAt = to;
                    if (end < 0) return;
                    pending.delete(0, end);
                    phase = calls == maxCalls ? Phase.DONE : Phase.AFTER;
                }
                case AFTER -> {
                    int i = skipBlanks(0);
                    String rest = pending.substring(i);
                    if (Openers.startsOne(rest, format.openers())) {
                        // Blanks between two calls are not content.
                        pending.delete(0, i);
                        phase = Phase.CONTENT;
                        continue;
                    }
                    if (rest.isEmpty() || (!atEnd && beginsOpener(rest))) return;
                    // No other call: content again, blanks and all.
                    phase = Phase.CONTENT;
                }
                case DONE -> {
                    // The one call allowed has been read: the rest is not part of the answer.
                    pending.setLength(0);
                    return;
                }
            }
        }
    }

    /**
     * After an opener: whether {@code NAME[ARGS]} (or {@code NAME[CALL_ID]ID[ARGS]}) and the first brace
     * of an object follow (true, the call given out and the brace left at the start of {@link #pending}),
     * cannot follow (false), or may still (null: wait for more text). A verdict holds for any longer text, so
     * the answer reads alike however a stream cuts it.
     */
    private Boolean callOpens(List<Piece> out, boolean atEnd) {
        int nameEnd = word(0);
        if (nameEnd == -2) return false;
        if (nameEnd < 0) return atEnd ? Boolean.FALSE : null;
        String name = pending.substring(0, nameEnd).strip();
        if (name.isEmpty()) return false;
        int at = nameEnd;
        if (startsAt(at, CALL_ID)) {
            // The model's own id for the call: one word, read past.
            at = word(at + CALL_ID.length());
            if (at == -2) return false;
            if (at < 0) return atEnd ? Boolean.FALSE : null;
        } else if (!startsAt(at, marker)) {
            return prefixAt(at, marker) || prefixAt(at, CALL_ID) ? (atEnd ? Boolean.FALSE : null) : Boolean.FALSE;
        }
        if (!startsAt(at, marker)) return prefixAt(at, marker) ? (atEnd ? Boolean.FALSE : null) : Boolean.FALSE;
        int brace = skipBlanks(at + marker.length());
        if (brace == pending.length()) return atEnd ? Boolean.FALSE : null;
        // The arguments must be a JSON object; anything else is no call.
        if (pending.charAt(brace) != '{') return false;
        out.add(new CallStart(calls, new ToolCall(format.newId(), "function", new Function(name, ""))));
        calls++;
        pending.delete(0, brace);
        phase = Phase.ARGUMENTS;
        givenAt = 0;
        scannedAt = 0;
        depth = 0;
        inString = false;
        escaped = false;
        return true;
    }

    /**
     * Where the word from {@code from} ends: at the next {@code [} (the start of a marker), with
     * blanks allowed before and after it but none inside. -1: the text ends before a {@code [};
     * -2: blanks inside, so no name or id (a sentence after a stray opener, say).
     */
    private int word(int from) {
        boolean seen = false;
        boolean gap = false;
        for (int i = from; i < pending.length(); i++) {
            char c = pending.charAt(i);
            if (c == '[') return i;
            if (ToolCallText.blank(c)) {
                gap = seen;
            } else {
                if (gap) return -2;
                seen = true;
            }
        }
        return -1;
    }

    /**
     * Scans the arguments' JSON from where the last scan stopped: the end of the object that opens
     * them (just past its closing brace), or -1 while it is still open. Brackets inside strings are
     * text, and so is a quote after a backslash.
     */
    private int scanArguments() {
        for (; scannedAt < pending.length(); scannedAt++) {
            char c = pending.charAt(scannedAt);
            if (inString) {
                if (escaped) escaped = false;
                else if (c == '\\') escaped = true;
                else if (c == '"') inString = false;
            } else if (c == '"') {
                inString = true;
            } else if (c == '{' || c == '[') {
                depth++;
            } else if ((c == '}' || c == ']') && --depth == 0) {
                return ++scannedAt;
            }
        }
        return -1;
    }

    private int skipBlanks(int i) {
        while (i < pending.length() && ToolCallText.blank(pending.charAt(i))) i++;
        return i;
    }

    private boolean startsAt(int at, String text) {
        return pending.length() - at >= text.length() && pending.substring(at, at + text.length()).equals(text);
    }

    /** Whether the text from {@code at} to the end is the beginning of {@code text} (the text may still come). */
    private boolean prefixAt(int at, String text) {
        return pending.length() - at < text.length() && text.startsWith(pending.substring(at));
    }

    private boolean beginsOpener(String rest) {
        return Openers.begunBy(rest, format.openers());
    }
}
