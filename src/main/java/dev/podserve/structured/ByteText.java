package dev.podserve.structured;

/** Byte-level text helpers the matchers of text around values share (tags, triggers, blanks). */
final class ByteText {

    private ByteText() {
    }

    /** JSON's four blanks: what the grammar skips, and what the response's readers skip. */
    static boolean blank(byte b) {
        return b == ' ' || b == '\n' || b == '\r' || b == '\t';
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
