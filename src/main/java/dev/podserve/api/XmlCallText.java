package dev.podserve.api;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.podserve.api.ToolCallText.CallArguments;
import dev.podserve.api.ToolCallText.CallStart;
import dev.podserve.api.ToolCallText.Piece;
import dev.podserve.api.dto.ChatCompletionResponse.Function;
import dev.podserve.api.dto.ChatCompletionResponse.ToolCall;

/**
 * Reads one choice's answer, as it streams, into content and tool calls written as XML
 * ({@link ToolCallFormat#QWEN3_CODER}):
 * <pre>
 * &lt;tool_call&gt;
 * &lt;function=get_weather&gt;
 * &lt;parameter=city&gt;
 * Paris
 * &lt;/parameter&gt;
 * &lt;/function&gt;
 * &lt;/tool_call&gt;
 * </pre>
 * A call goes out once its {@code <function=NAME>} is whole, and its arguments, typed by the tools'
 * schemas ({@link XmlParameters}), in one piece once its {@code </function>} arrives: a value is only
 * typed when it is whole, so nothing of it can go out earlier. The text before, between and after
 * calls is content, held back only while it may still be an opener (or, after a call, its closer);
 * an opener followed by anything but {@code <function=} is content too, word for word. A
 * {@code </tool_call>} the model left out after its {@code </function>} is not missed (vLLM reads such
 * a call too), and a call cut by the end of the answer comes with the parameters it got to.
 */
final class XmlCallText implements CallReader {

    static final String FUNCTION = "<function=";
    static final String FUNCTION_END = "</function>";

    private enum Phase { CONTENT, OPENED, BODY, AFTER, DONE }

    private final ToolCallFormat format;
    /** Each listed function's {@code parameters.properties}. */
    private final Map<String, Map<String, Object>> properties = new HashMap<>();
    /** Calls read at most; after the last, the answer is over (as the grammar ends a JSON format's). -1: no limit. */
    private final int maxCalls;
    private Phase phase = Phase.CONTENT;
    /** Text read but not yet given out: held content, the call so far, or what follows a call. */
    private final StringBuilder pending = new StringBuilder();
    /** What opened the call in {@link #pending}, given back as content if no call follows. */
    private String opener = "";
    /** BODY: the name of the call being read. */
    private String function;
    private int calls;
    /** AFTER: whether the call's closer has been read. */
    private boolean closed;
    private boolean endedInArguments;

    XmlCallText(ToolCallFormat format, List<Map<String, Object>> tools) {
        this(format, tools, -1);
    }

    /** @param maxCalls -1: any number; 1 for {@code parallel_tool_calls: false} */
    @SuppressWarnings("unchecked")
    XmlCallText(ToolCallFormat format, List<Map<String, Object>> tools, int maxCalls) {
        this.format = format;
        this.maxCalls = maxCalls;
        for (Map<String, Object> tool : tools == null ? List.<Map<String, Object>>of() : tools) {
            // ToolChoices has checked the tools' shape; a function without properties takes none by name.
            if (tool.get("function") instanceof Map<?, ?> f && f.get("name") instanceof String name) {
                Object props = f.get("parameters") instanceof Map<?, ?> p ? p.get("properties") : null;
                properties.put(name, props instanceof Map<?, ?> m ? (Map<String, Object>) m : Map.of());
            }
        }
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
                    Boolean call = functionOpens(out, atEnd);
                    if (call == null) return;
                    if (!call) {
                        // Not a call after all: the opener is content, and what follows is read again as content.
                        Openers.content(out, opener);
                        phase = Phase.CONTENT;
                    }
                }
                case BODY -> {
                    int end = pending.indexOf(FUNCTION_END);
                    // A </function> the model left out: its </tool_call> ends the call (vLLM reads each <tool_call> on its own).
                    int closerAt = closerInPlaceOfFunctionEnd(end);
                    boolean byCloser = closerAt >= 0;
                    if (byCloser) end = closerAt;
                    if (end < 0 && !atEnd) return;
                    String body = pending.substring(0, end < 0 ? pending.length() : end);
                    out.add(new CallArguments(calls - 1, XmlParameters.arguments(body, properties.get(function))));
                    if (end < 0) {
                        endedInArguments = true;
                        pending.setLength(0);
                        return;
                    }
                    pending.delete(0, end + (byCloser ? format.closer() : FUNCTION_END).length());
                    closed = byCloser;
                    phase = calls == maxCalls ? Phase.DONE : Phase.AFTER;
                }
                case AFTER -> {
                    int i = skipBlanks();
                    String rest = pending.substring(i);
                    if (!closed && rest.startsWith(format.closer())) {
                        // One closer per call; a second one is text.
                        pending.delete(0, i + format.closer().length());
                        closed = true;
                        continue;
                    }
                    if (Openers.startsOne(rest, format.openers())) {
                        // Blanks between two calls are not content.
                        pending.delete(0, i);
                        phase = Phase.CONTENT;
                        continue;
                    }
                    if (rest.isEmpty() || (!atEnd && beginsCloserOrOpener(rest))) return;
                    // Neither a closer nor another call: content again, blanks and all.
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
     * After an opener: whether {@code <function=NAME>} follows (true, the call given out), cannot
     * follow (false), or may still (null: wait for more text).
     */
    private Boolean functionOpens(List<Piece> out, boolean atEnd) {
        int i = skipBlanks();
        int known = Math.min(pending.length() - i, FUNCTION.length());
        if (!FUNCTION.startsWith(pending.substring(i, i + known))) return false;
        if (known < FUNCTION.length()) return atEnd ? Boolean.FALSE : null;
        int nameStart = i + FUNCTION.length();
        int gt = pending.indexOf(">", nameStart);
        String name = pending.substring(nameStart, gt < 0 ? pending.length() : gt);
        // A name is one line of no tags; the template writes it and '>' at once.
        if (name.indexOf('<') >= 0 || name.indexOf('\n') >= 0 || name.indexOf('\r') >= 0) return false;
        if (gt < 0) return atEnd ? Boolean.FALSE : null;
        if (name.isBlank()) return false;
        function = name;
        out.add(new CallStart(calls, new ToolCall(format.newId(), "function", new Function(name, ""))));
        calls++;
        pending.delete(0, gt + 1);
        phase = Phase.BODY;
        return true;
    }

    /**
     * BODY: where a {@code </tool_call>} before {@code end} (the {@code </function>}, -1: none yet) stands
     * where the {@code </function>} should, after the last parameter's closer or an empty body (blanks
     * between); -1 where none does. One inside a value (code that writes the tag) is the value's.
     */
    private int closerInPlaceOfFunctionEnd(int end) {
        String closer = format.closer();
        for (int at = pending.indexOf(closer); at >= 0 && (end < 0 || at < end); at = pending.indexOf(closer, at + 1)) {
            int i = at;
            while (i > 0 && ToolCallText.blank(pending.charAt(i - 1))) i--;
            if (i == 0 || pending.substring(0, i).endsWith(XmlParameters.CLOSE)) return at;
        }
        return -1;
    }

    private int skipBlanks() {
        int i = 0;
        while (i < pending.length() && ToolCallText.blank(pending.charAt(i))) i++;
        return i;
    }

    /** Whether {@code rest} is, so far, the beginning of the call's closer or of an opener. */
    private boolean beginsCloserOrOpener(String rest) {
        if (!closed && format.closer().startsWith(rest)) return true;
        return Openers.begunBy(rest, format.openers());
    }
}
