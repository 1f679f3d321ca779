package dev.podserve.api;

/**
 * Splits one choice's answer, as it streams, into thinking ({@code reasoning_content}) and answer
 * ({@code content}) by a {@link ReasoningFormat}'s tags, which are dropped. An answer that does not
 * begin with the opening tag (after blanks: space, tab, line feed, carriage return, as the token-level rule counts them) has no thinking, unless the prompt opened it; text that
 * may still be a tag is held back until it is known; blanks between the closing tag and the answer
 * are dropped. The same splitter serves streamed and whole responses.
 */
final class ReasoningText {

    /** One step of text, split: either part may be empty. */
    record Split(String reasoning, String content) {
    }

    private enum Phase { PREAMBLE, THINKING, ANSWER_START, ANSWER }

    private final ReasoningFormat format;
    private Phase phase;
    private final StringBuilder held = new StringBuilder();

    ReasoningText(ReasoningFormat format, boolean startsInside) {
        this.format = format;
        this.phase = startsInside ? Phase.THINKING : Phase.PREAMBLE;
    }

    Split feed(String text) {
        held.append(text);
        return read(false);
    }

    Split finish() {
        return read(true);
    }

    /** A whole answer split at once. */
    static Split split(ReasoningFormat format, boolean startsInside, String answer) {
        ReasoningText r = new ReasoningText(format, startsInside);
        Split a = r.feed(answer);
        Split b = r.finish();
        return new Split(a.reasoning() + b.reasoning(), a.content() + b.content());
    }

    private Split read(boolean atEnd) {
        StringBuilder reasoning = new StringBuilder();
        StringBuilder content = new StringBuilder();
        while (true) {
            switch (phase) {
                case PREAMBLE -> {
                    int i = 0;
                    while (i < held.length() && ToolCallText.blank(held.charAt(i))) i++;
                    String rest = held.substring(i);
                    if (rest.startsWith(format.open())) {
                        held.delete(0, i + format.open().length());
                        phase = Phase.THINKING;
                    } else if (!atEnd && format.open().startsWith(rest)) {
                        return new Split(reasoning.toString(), content.toString());
                    } else {
                        phase = Phase.ANSWER;
                    }
                }
                case THINKING -> {
                    int at = held.indexOf(format.close());
                    if (at >= 0) {
                        reasoning.append(held, 0, at);
                        held.delete(0, at + format.close().length());
                        phase = Phase.ANSWER_START;
                        continue;
                    }
                    int keep = atEnd ? 0 : closePrefix();
                    reasoning.append(held, 0, held.length() - keep);
                    held.delete(0, held.length() - keep);
                    return new Split(reasoning.toString(), content.toString());
                }
                case ANSWER_START -> {
                    int i = 0;
                    while (i < held.length() && ToolCallText.blank(held.charAt(i))) i++;
                    held.delete(0, i);
                    if (held.isEmpty()) return new Split(reasoning.toString(), content.toString());
                    phase = Phase.ANSWER;
                }
                case ANSWER -> {
                    content.append(held);
                    held.setLength(0);
                    return new Split(reasoning.toString(), content.toString());
                }
            }
        }
    }

    /** Length of the longest end of the held text that the closing tag begins with (but is not all of). */
    private int closePrefix() {
        String text = held.toString();
        String close = format.close();
        for (int k = Math.min(close.length() - 1, text.length()); k > 0; k--) {
            if (text.regionMatches(text.length() - k, close, 0, k)) return k;
        }
        return 0;
    }
}
