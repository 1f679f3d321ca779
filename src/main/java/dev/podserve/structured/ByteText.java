package dev.podserve.structured;

/** Byte-level text helpers the matchers of text around values share (tags, triggers, blanks). */
final class ByteText {

    private ByteText() {
    }

    /** JSON's four blanks: what the grammar skips, and what the response's readers skip. */
    static boolean blank(byte b) {
        return b == ' ' || b == '\n' || b == '\r' || b == '\t';
    }

    /** The first index at or after {@code from} that is no blank, or {@code text.length}. */
    static int skipBlanks(byte[] text, int from) {
        int i = from;
        while (i < text.length && blank(text[i])) i++;
        return i;
    }

    /** First index of {@code t} in {@code text}, or -1. */
    static int indexOf(byte[] text, byte[] t) {
        outer:
        for (int i = 0; i + t.length <= text.length; i++) {
            for (int j = 0; j < t.length; j++) {
                if (text[i + j] != t[j]) continue outer;
            }
            return i;
        }
        return -1;
    }
}
