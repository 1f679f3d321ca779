package dev.podserve.api;

import java.util.List;

/**
 * Reads one choice's answer, as it streams, into content and tool calls ({@link ToolCallText.Piece}s),
 * in one {@link ToolCallFormat}: {@link ToolCallText} for the JSON formats, {@link XmlCallText} for
 * the XML one, {@link MistralCallText} for Mistral v11's name-then-arguments calls. Streamed and whole
 * responses read an answer through the same reader, so they agree.
 */
interface CallReader {

    /** Takes the next piece of the answer; returns what can go out now. */
    List<ToolCallText.Piece> feed(String text);

    /** The answer has ended: gives out everything still held. */
    List<ToolCallText.Piece> finish();

    /** Calls given out so far. */
    int calls();

    /**
     * Whether the answer ended inside a call (set by {@link #finish}), so the last call given out is
     * not whole: such an answer did not end in calls, and its finish is not {@code tool_calls}.
     */
    boolean endedInArguments();
}
