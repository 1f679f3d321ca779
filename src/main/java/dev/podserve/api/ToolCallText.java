package dev.podserve.api;

import java.util.ArrayList;
import java.util.List;

import dev.podserve.api.dto.ChatCompletionResponse.Function;
import dev.podserve.api.dto.ChatCompletionResponse.ToolCall;

import tools.jackson.databind.JsonNode;

/**
 * Reads one choice's answer, as it streams, into content and tool calls in the model's own
 * {@link ToolCallFormat} ({@code tool_choice: "auto"}; one of JSON calls, while {@link XmlCallText}
 * reads XML ones), or in {@code "required"}'s array. Text that may still turn out to open a call
 * (the first bytes of an opener) is held back until it is known. A call goes out as soon as its
 * name is whole and its arguments have begun, and its arguments then stream as they are written,
 * exactly as generated (so a call cut short by the end of the answer is still the call, its
 * arguments cut, as OpenAI sends one). Nothing is lost: an opener followed by something other than
 * a call comes back as content, word for word. The same reader serves streamed and whole
 * responses, so both read an answer alike.
 */
final class ToolCallText implements CallReader {

    /** What the answer read so far gives: content and calls, in the order they came. */
    sealed interface Piece permits Content, CallStart, CallArguments {
    }

    record Content(String text) implements Piece {
    }

    /** Call {@code index} of the answer begins: its id, type and name ({@code arguments} empty). */
    record CallStart(int index, ToolCall call) implements Piece {
    }

    /** The next piece of call {@code index}'s arguments. */
    record CallArguments(int index, String text) implements Piece {
    }

    private enum Phase { START, CONTENT, CALL, AFTER }

    private final ToolCallFormat format;
    private Phase phase;
    /** Text read but not yet given out: held content, a call's JSON so far, or what follows a call. */
    private final StringBuilder pending = new StringBuilder();
    /** What opened the call in {@link #pending}, given back as content if no call follows (at the start: the blanks before it). */
    private String opener = "";
    private int calls;
    /** Whether the answer ended inside a call's arguments (set by {@link #finish}). */
    private boolean endedInArguments;
    /** AFTER: whether the call's closer has been read. */
    private boolean closed;
    /** CALL: calls of the value in {@link #pending} begun so far. */
    private int begun;
    /** CALL: where the arguments of the last call begun have been given out up to (an index into {@link #pending}). */
    private int argumentsAt;
    /** CALL: whether the last call begun has given out all its arguments. */
    private boolean argumentsDone;

    ToolCallText(ToolCallFormat format) {
        this.format = format;
        this.phase = format.atStart() ? Phase.START : Phase.CONTENT;
    }

    /** Calls given out so far. */
    @Override
    public int calls() {
        return calls;
    }

    /** Takes the next piece of the answer; returns what can go out now. */
    @Override
    public List<Piece> feed(String text) {
        pending.append(text);
        List<Piece> out = new ArrayList<>(2);
        read(out, false);
        return out;
    }

    /**
     * Whether the answer ended inside a call's arguments, so the last call given out is not whole: a
     * stop string or stop token in the middle of its JSON, or the model's own end there. Such an
     * answer did not end in calls (its finish stays {@code stop}, not {@code tool_calls}), just as one
     * cut by max_tokens keeps {@code length}.
     */
    @Override
    public boolean endedInArguments() {
        return endedInArguments;
    }

    /** The answer has ended: gives out everything still held. */
    @Override
    public List<Piece> finish() {
        List<Piece> out = new ArrayList<>(2);
        read(out, true);
        endedInArguments = phase == Phase.CALL && begun > 0 && !argumentsDone;
        // A call that has begun stands, cut as it is; before that, what opened it is text, and so is
        // what follows the calls that began (the next element of an array, cut before its name).
        if (phase == Phase.CALL && begun == 0) {
            Openers.content(out, opener + pending);
        } else if (phase == Phase.CALL) {
            CallSyntax.Scan scan = CallSyntax.scan(pending, format.array(), format.argumentsKey());
            int taken = Math.max(argumentsAt, scan.calls().get(begun - 1).end());
            String rest = pending.substring(Math.min(taken, pending.length()));
            if (!blank(rest)) Openers.content(out, rest);
        }
        else if (phase != Phase.AFTER || !blank(pending)) Openers.content(out, pending.toString());
        pending.setLength(0);
        return out;
    }

    /** The whole answer at once: its content (null where it is only blanks around calls) and calls. */
    static Whole read(ToolCallFormat format, String answer) {
        return read(new ToolCallText(format), answer);
    }

    /** The whole answer at once, through {@code reader} (a new one, of any format). */
    static Whole read(CallReader reader, String answer) {
        List<Piece> pieces = new ArrayList<>(reader.feed(answer));
        pieces.addAll(reader.finish());
        StringBuilder content = new StringBuilder();
        List<ToolCall> starts = new ArrayList<>();
        List<StringBuilder> arguments = new ArrayList<>();
        for (Piece p : pieces) {
            if (p instanceof Content c) {
                content.append(c.text());
            } else if (p instanceof CallStart c) {
                starts.add(c.call());
                arguments.add(new StringBuilder());
            } else {
                CallArguments a = (CallArguments) p;
                arguments.get(a.index()).append(a.text());
            }
        }
        List<ToolCall> calls = new ArrayList<>(starts.size());
        for (int i = 0; i < starts.size(); i++) {
            ToolCall c = starts.get(i);
            calls.add(new ToolCall(c.id(), c.type(), new Function(c.function().name(), arguments.get(i).toString())));
        }
        String text = content.toString();
        return new Whole(calls.isEmpty() || !blank(text) ? text : null, calls, reader.endedInArguments());
    }

    /** @param endedInArguments see {@link ToolCallText#endedInArguments()} */
    record Whole(String content, List<ToolCall> calls, boolean endedInArguments) {
    }

    /** Moves through {@link #pending} as far as it is known; at the end, as far as it goes. */
    private void read(List<Piece> out, boolean atEnd) {
        while (true) {
            switch (phase) {
                case START -> {
                    int i = skipBlanks(0);
                    if (i == pending.length()) return;
                    if (pending.charAt(i) == (format.array() ? '[' : '{')) {
                        // The blanks go back with the text if no call follows.
                        opener = pending.substring(0, i);
                        pending.delete(0, i);
                        phase = Phase.CALL;
                    } else {
                        phase = Phase.CONTENT;
                    }
                }
                case CONTENT -> {
                    String found = Openers.contentUpToOpener(pending, format.openers(), atEnd, out);
                    if (found == null) return;
                    opener = found;
                    phase = Phase.CALL;
                }
                case CALL -> {
                    CallSyntax.Scan scan = CallSyntax.scan(pending, format.array(), format.argumentsKey());
                    // What goes out depends only on the text, never on how it was cut into pieces: a call
                    // begins where its name and arguments are, whatever follows (a scan fails only at a byte).
                    giveOut(scan, out);
                    if (scan.invalid() && begun == 0) {
                        // Not a call after all: the opener is content, and what follows is read again as content.
                        Openers.content(out, opener);
                        phase = Phase.CONTENT;
                        continue;
                    }
                    if (scan.invalid()) {
                        // Text no call can go on with, after calls began (only where no grammar bound them): content
                        // from the end of what the calls took.
                        CallSyntax.Call last = scan.calls().get(begun - 1);
                        pending.delete(0, Math.max(argumentsAt, last.end()));
                        begun = 0;
                        phase = Phase.CONTENT;
                        continue;
                    }
                    if (scan.end() < 0) return;
                    pending.delete(0, scan.end());
                    begun = 0;
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
                    if (Openers.startsOne(rest, format.openers())) {
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
     * Gives out what the scan shows of the value's calls beyond what went out: each call's start
     * once its name is whole and its arguments have begun (or its object closed without them), then
     * its arguments' text as far as written. A string given as the arguments goes out decoded, whole.
     */
    private void giveOut(CallSyntax.Scan scan, List<Piece> out) {
        for (int j = Math.max(0, begun - 1); j < scan.calls().size(); j++) {
            CallSyntax.Call c = scan.calls().get(j);
            if (j == begun) {
                if (c.name() == null || (c.argsStart() < 0 && !c.closed())) return;
                // Arguments given as a string go out decoded, so the call waits until the string has closed and reads.
                if (c.argsStart() >= 0 && pending.charAt(c.argsStart()) == '"' && c.argsEnd() < 0) return;
                out.add(new CallStart(calls, new ToolCall(format.newId(), "function", new Function(c.name(), ""))));
                calls++;
                begun++;
                argumentsAt = c.argsStart();
                argumentsDone = false;
            }
            if (j != begun - 1 || argumentsDone) continue;
            int index = calls - 1;
            if (c.argsStart() < 0) {
                out.add(new CallArguments(index, "{}"));
                argumentsAt = c.end();
                argumentsDone = true;
            } else if (pending.charAt(c.argsStart()) == '"') {
                out.add(new CallArguments(index, CallSyntax.decodeString(pending, c.argsStart(), c.argsEnd())));
                argumentsAt = c.argsEnd();
                argumentsDone = true;
            } else {
                int to = c.argsEnd() >= 0 ? c.argsEnd() : pending.length();
                if (to > argumentsAt) out.add(new CallArguments(index, pending.substring(argumentsAt, to)));
                argumentsAt = to;
                argumentsDone = c.argsEnd() >= 0;
            }
            if (!argumentsDone) return;
        }
    }
}
