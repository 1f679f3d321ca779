package dev.podserve.structured;

/**
 * The inside of a JSON string, one byte at a time: escapes, {@code \}{@code uXXXX} (a surrogate
 * only as a high-low pair, so the client can decode it), and UTF-8 that must be well formed (no
 * overlong forms, no surrogates, nothing past U+10FFFF). The closing quote is the caller's
 * business: it closes only in {@link #NORMAL}. A state is a small int so that frames stay plain
 * values.
 */
final class StringLexer {

    /** Between characters. */
    static final int NORMAL = 0;
    /** After a backslash. */
    private static final int ESCAPE = 1;
    /** {@code HEX + k}: k hex digits of a {@code \}{@code u} escape still to come (k = 1..4). */
    private static final int HEX = 1;
    /** {@code \}{@code uD} read: the next digit tells a plain character (0-7) from a high surrogate (8-B). */
    private static final int HEX_AFTER_D = 6;
    /** Two, then one, digits of a high surrogate's escape to come. */
    private static final int HIGH_2 = 7;
    private static final int HIGH_1 = 8;
    /** A high surrogate was read: its low half must follow as {@code \}{@code uDC00..DFFF}. */
    private static final int LOW_BACKSLASH = 9;
    private static final int LOW_U = 10;
    private static final int LOW_D = 11;
    private static final int LOW_C_TO_F = 12;
    private static final int LOW_2 = 13;
    private static final int LOW_1 = 14;
    /** {@code UTF8 + 8 * r + kind}: r continuation bytes to come, the next one in range {@code kind}. */
    private static final int UTF8 = 16;
    /**
     * In a member name, {@code \}{@code u} escapes only as Jackson writes a control character
     * without a short form: {@code \}{@code u000[0-7BEF]}, {@code \}{@code u001[0-9A-F]}. The
     * states after {@code \}{@code u}, {@code \}{@code u0}, {@code \}{@code u00},
     * {@code \}{@code u000} and {@code \}{@code u001}.
     */
    private static final int NAME_U = 48;
    private static final int NAME_U0 = 49;
    private static final int NAME_U00 = 50;
    private static final int NAME_U000 = 51;
    private static final int NAME_U001 = 52;
    /** Lexer states are below this. */
    static final int STATES = 53;
    /** The next continuation byte's range for each kind: [kind][low, high]. */
    private static final int[][] RANGES = {{0x80, 0xBF}, {0xA0, 0xBF}, {0x80, 0x9F}, {0x90, 0xBF}, {0x80, 0x8F}};

    static final int REJECT = -1;

    private StringLexer() {
    }

    /**
     * Whether a byte taken in {@code state} begins a character (so counts against a maximum
     * length). A surrogate pair's second escape does not: the pair is one character.
     */
    static boolean startsCharacter(int state) {
        return state == NORMAL;
    }

    /** The state after byte {@code b} (0..255, not a closing quote in NORMAL), or {@link #REJECT}. */
    static int next(int state, int b) {
        switch (state) {
            case NORMAL:
                if (b < 0x20 || b == '"') return REJECT;
                if (b == '\\') return ESCAPE;
                return b < 0x80 ? NORMAL : lead(b);
            case ESCAPE:
                return switch (b) {
                    case '"', '\\', '/', 'b', 'f', 'n', 'r', 't' -> NORMAL;
                    case 'u' -> HEX + 4;
                    default -> REJECT;
                };
            case HEX + 4:
                if (b == 'D' || b == 'd') return HEX_AFTER_D;
                return isHex(b) ? HEX + 3 : REJECT;
            case HEX + 3, HEX + 2, HEX + 1:
                if (!isHex(b)) return REJECT;
                return state == HEX + 1 ? NORMAL : state - 1;
            case HEX_AFTER_D:
                if (b >= '0' && b <= '7') return HEX + 2;
                if ((b >= '8' && b <= '9') || (b >= 'a' && b <= 'b') || (b >= 'A' && b <= 'B')) return HIGH_2;
                return REJECT; // a low surrogate with no high one before it
            case HIGH_2:
                return isHex(b) ? HIGH_1 : REJECT;
            case HIGH_1:
                return isHex(b) ? LOW_BACKSLASH : REJECT;
            case LOW_BACKSLASH:
                return b == '\\' ? LOW_U : REJECT;
            case LOW_U:
                return b == 'u' ? LOW_D : REJECT;
            case LOW_D:
                return b == 'D' || b == 'd' ? LOW_C_TO_F : REJECT;
            case LOW_C_TO_F:
                return (b >= 'c' && b <= 'f') || (b >= 'C' && b <= 'F') ? LOW_2 : REJECT;
            case LOW_2:
                return isHex(b) ? LOW_1 : REJECT;
            case LOW_1:
                return isHex(b) ? NORMAL : REJECT;
            default:
                int remaining = (state - UTF8) / 8;
                int kind = (state - UTF8) % 8;
                if (b < RANGES[kind][0] || b > RANGES[kind][1]) return REJECT;
                return remaining == 1 ? NORMAL : UTF8 + 8 * (remaining - 1);
        }
    }

    /**
     * As {@link #next}, inside a member name, where each name must have one spelling so that the
     * recognizer can tell names apart by their bytes: no {@code \/} (a slash is written as itself),
     * and {@code \}{@code u} only for the control characters that have no short escape, in upper
     * case, as the compact encoding of the schema's own names has them.
     */
    static int nextInName(int state, int b) {
        switch (state) {
            case ESCAPE:
                return switch (b) {
                    case '"', '\\', 'b', 'f', 'n', 'r', 't' -> NORMAL;
                    case 'u' -> NAME_U;
                    default -> REJECT;
                };
            case NAME_U:
                return b == '0' ? NAME_U0 : REJECT;
            case NAME_U0:
                return b == '0' ? NAME_U00 : REJECT;
            case NAME_U00:
                return b == '0' ? NAME_U000 : b == '1' ? NAME_U001 : REJECT;
            case NAME_U000:
                return (b >= '0' && b <= '7') || b == 'B' || b == 'E' || b == 'F' ? NORMAL : REJECT;
            case NAME_U001:
                return (b >= '0' && b <= '9') || (b >= 'A' && b <= 'F') ? NORMAL : REJECT;
            default:
                return next(state, b);
        }
    }

    private static int lead(int b) {
        if (b >= 0xC2 && b <= 0xDF) return UTF8 + 8;
        if (b == 0xE0) return UTF8 + 16 + 1;
        if (b == 0xED) return UTF8 + 16 + 2;
        if (b >= 0xE1 && b <= 0xEF) return UTF8 + 16;
        if (b == 0xF0) return UTF8 + 24 + 3;
        if (b == 0xF4) return UTF8 + 24 + 4;
        if (b >= 0xF1 && b <= 0xF3) return UTF8 + 24;
        return REJECT;
    }

    private static boolean isHex(int b) {
        return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f') || (b >= 'A' && b <= 'F');
    }
}
