package dev.podserve.structured;

import java.util.List;

import dev.podserve.structured.Shape.ArrayShape;
import dev.podserve.structured.Shape.Literals;
import dev.podserve.structured.Shape.NumberShape;
import dev.podserve.structured.Shape.ObjectShape;
import dev.podserve.structured.Shape.StringShape;

/**
 * One state of the byte-level recognizer: where inside a value the output stands, with a link to
 * what comes after that value ({@code parent}, a continuation). Frames are immutable values, so a
 * state is shared by every branch that reaches it, and a step that changes nothing returns the
 * frame itself. {@link Frames} merges branches that met again (a number that fits two options of a
 * union ends in the same continuation twice) with {@link #same}, which compares chains link by link
 * without recursion; records' own equals would recurse through them.
 */
sealed interface Frame {

    /** Adds to {@code out} every state the byte {@code b} (0..255) leads to; none: the byte is refused. */
    void step(int b, Frames out);

    /** Whether the output may end here. */
    default boolean canEnd() {
        return false;
    }

    /**
     * What comes after this frame's value (a member name's object for a name); null after the
     * output. The records' {@code parent} components implement it.
     */
    Frame parent();

    /** Whether this frame equals {@code other}, a frame of the same class, in all but {@link #parent}. */
    boolean sameHere(Frame other);

    /** Most objects and arrays open at once: deeper nesting is refused, as strict parsers refuse it. */
    int MAX_NESTING = 100;

    /**
     * Whether two states are the same, their chains of continuations compared link by link without
     * recursion (a deeply nested value must not cost stack), stopping at the first shared link.
     */
    static boolean same(Frame a, Frame b) {
        while (a != b) {
            if (a == null || b == null || a.getClass() != b.getClass() || !a.sameHere(b)) return false;
            a = a.parent();
            b = b.parent();
        }
        return true;
    }

    /** Whether a container opened inside {@code parent} (a continuation) would nest too deep. */
    static boolean tooDeep(Frame parent) {
        int depth = 0;
        for (Frame f = parent; f instanceof ObjectFrame || f instanceof ArrayFrame; f = f.parent()) {
            if (++depth >= MAX_NESTING) return true;
        }
        return false;
    }

    /** After the whole output: nothing more may come. */
    record Done() implements Frame {
        static final Done INSTANCE = new Done();

        @Override
        public void step(int b, Frames out) {
        }

        @Override
        public boolean canEnd() {
            return true;
        }

        @Override
        public Frame parent() {
            return null;
        }

        @Override
        public boolean sameHere(Frame other) {
            return true;
        }
    }

    /** Before a value of {@code shape}, after {@code ws} bytes of whitespace. */
    record ValueStart(Shape shape, Frame parent, int ws) implements Frame {
        @Override
        public void step(int b, Frames out) {
            if (isWhitespace(b)) {
                if (ws < Shape.MAX_WHITESPACE) out.add(new ValueStart(shape, parent, ws + 1));
                return;
            }
            start(shape, b, parent, out);
        }

        @Override
        public boolean sameHere(Frame other) {
            ValueStart o = (ValueStart) other;
            return shape == o.shape && ws == o.ws;
        }
    }

    /**
     * Inside an object. {@code seen}: the listed properties already there; {@code others}: the
     * other names already there, as written (so none comes twice); {@code pending}: the shape of
     * the member whose name was just read.
     */
    record ObjectFrame(ObjectShape shape, long seen, List<byte[]> others, int phase, Shape pending, int ws, Frame parent)
            implements Frame {
        static final int OPENED = 0;
        static final int AFTER_COMMA = 1;
        static final int AFTER_KEY = 2;
        static final int AFTER_VALUE = 3;

        @Override
        public void step(int b, Frames out) {
            if (isWhitespace(b)) {
                if (ws < Shape.MAX_WHITESPACE) out.add(new ObjectFrame(shape, seen, others, phase, pending, ws + 1, parent));
                return;
            }
            boolean mayClose = (shape.required() & ~seen) == 0;
            switch (phase) {
                case OPENED -> {
                    if (b == '}' && mayClose) out.add(parent);
                    if (b == '"' && shape.moreAllowed(seen)) out.add(KeyFrame.open(this));
                }
                case AFTER_COMMA -> {
                    if (b == '"') out.add(KeyFrame.open(this));
                }
                case AFTER_KEY -> {
                    if (b == ':') out.add(new ValueStart(pending, new ObjectFrame(shape, seen, others, AFTER_VALUE, null, 0, parent), 0));
                }
                default -> {
                    if (b == '}' && mayClose) out.add(parent);
                    if (b == ',' && shape.moreAllowed(seen)) out.add(new ObjectFrame(shape, seen, others, AFTER_COMMA, null, 0, parent));
                }
            }
        }

        @Override
        public boolean sameHere(Frame other) {
            ObjectFrame o = (ObjectFrame) other;
            if (shape != o.shape || seen != o.seen || phase != o.phase || pending != o.pending || ws != o.ws) return false;
            if (others.size() != o.others.size()) return false;
            for (int k = 0; k < others.size(); k++) {
                if (!java.util.Arrays.equals(others.get(k), o.others.get(k))) return false;
            }
            return true;
        }
    }

    /**
     * Inside a member name. {@code candidates}: the properties whose encoded name begins with the
     * {@code pos} bytes read so far (unseen ones only when no other names are allowed, since a name
     * may not repeat); {@code text}: the bytes read, kept only where other names are allowed (to
     * refuse one a second time); {@code lex}: the string lexer's state.
     */
    record KeyFrame(ObjectFrame owner, long candidates, int pos, byte[] text, int lex) implements Frame {

        static KeyFrame open(ObjectFrame owner) {
            ObjectShape s = owner.shape();
            long candidates = s.additional() == null ? s.allBits() & ~owner.seen() : s.allBits();
            return new KeyFrame(owner, candidates, 0, s.additional() == null ? null : new byte[0], StringLexer.NORMAL);
        }

        @Override
        public void step(int b, Frames out) {
            ObjectShape s = owner.shape();
            if (lex == StringLexer.NORMAL && b == '"') {
                close(s, out);
                return;
            }
            int nextLex = StringLexer.nextInName(lex, b);
            if (nextLex == StringLexer.REJECT) return;
            long next = 0;
            for (long bits = candidates; bits != 0; bits &= bits - 1) {
                int i = Long.numberOfTrailingZeros(bits);
                byte[] key = s.properties().get(i).key();
                if (pos < key.length && (key[pos] & 0xFF) == b) next |= 1L << i;
            }
            if (next == 0 && s.additional() == null) return;
            byte[] longer = null;
            if (text != null) {
                longer = java.util.Arrays.copyOf(text, text.length + 1);
                longer[text.length] = (byte) b;
            }
            out.add(new KeyFrame(owner, next, next == 0 ? 0 : pos + 1, longer, nextLex));
        }

        private void close(ObjectShape s, Frames out) {
            for (long bits = candidates; bits != 0; bits &= bits - 1) {
                int i = Long.numberOfTrailingZeros(bits);
                Shape.Property p = s.properties().get(i);
                if (p.key().length != pos) continue;
                // The name of a property: never twice; otherwise its own shape, whatever else is allowed.
                if ((owner.seen() & (1L << i)) == 0) {
                    out.add(new ObjectFrame(s, owner.seen() | (1L << i), owner.others(), ObjectFrame.AFTER_KEY, p.value(), 0, owner.parent()));
                }
                return;
            }
            if (s.additional() != null) {
                for (byte[] other : owner.others()) {
                    if (java.util.Arrays.equals(other, text)) return;
                }
                List<byte[]> others = new java.util.ArrayList<>(owner.others());
                others.add(text);
                out.add(new ObjectFrame(s, owner.seen(), List.copyOf(others), ObjectFrame.AFTER_KEY, s.additional(), 0, owner.parent()));
            }
        }
        /** A member name is followed by its object's rest. */
        @Override
        public Frame parent() {
            return owner;
        }

        @Override
        public boolean sameHere(Frame other) {
            KeyFrame o = (KeyFrame) other;
            return candidates == o.candidates && pos == o.pos && lex == o.lex && java.util.Arrays.equals(text, o.text);
        }
    }

    /** Inside a string value, {@code chars} characters in (counted only when the shape bounds them). */
    record StringFrame(StringShape shape, int chars, int lex, Frame parent) implements Frame {
        @Override
        public void step(int b, Frames out) {
            if (lex == StringLexer.NORMAL) {
                if (b == '"') {
                    if (chars >= shape.minLength()) out.add(parent);
                    return;
                }
                if (shape.maxLength() >= 0 && chars >= shape.maxLength()) return;
            }
            int nextLex = StringLexer.next(lex, b);
            if (nextLex == StringLexer.REJECT) return;
            int nextChars = shape.counts() && StringLexer.startsCharacter(lex) ? chars + 1 : chars;
            out.add(nextLex == lex && nextChars == chars ? this : new StringFrame(shape, nextChars, nextLex, parent));
        }
        @Override
        public boolean sameHere(Frame other) {
            StringFrame o = (StringFrame) other;
            return shape == o.shape && chars == o.chars && lex == o.lex;
        }
    }

    /**
     * Inside a number, JSON's grammar: {@code -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?},
     * with at most {@value #MAX_DIGITS} digits before and after the point and
     * {@value #MAX_EXPONENT_DIGITS} in the exponent, so that a model cannot spend its whole budget
     * on one number. A number has no end mark: the first byte that cannot continue it ends it and
     * goes on to the continuation.
     */
    record NumberFrame(boolean integer, int phase, int digits, Frame parent) implements Frame {
        static final int MAX_DIGITS = 20;
        static final int MAX_EXPONENT_DIGITS = 3;
        static final int MINUS = 0;
        static final int ZERO = 1;
        static final int INT = 2;
        static final int DOT = 3;
        static final int FRACTION = 4;
        static final int EXPONENT = 5;
        static final int EXPONENT_SIGN = 6;
        static final int EXPONENT_DIGITS = 7;

        static void start(NumberShape shape, int b, Frame parent, Frames out) {
            if (b == '-') out.add(new NumberFrame(shape.integer(), MINUS, 0, parent));
            else if (b == '0') out.add(new NumberFrame(shape.integer(), ZERO, 1, parent));
            else if (b >= '1' && b <= '9') out.add(new NumberFrame(shape.integer(), INT, 1, parent));
        }

        @Override
        public void step(int b, Frames out) {
            boolean digit = b >= '0' && b <= '9';
            boolean point = b == '.' && !integer;
            boolean exponent = (b == 'e' || b == 'E') && !integer;
            switch (phase) {
                case MINUS -> {
                    if (b == '0') out.add(new NumberFrame(integer, ZERO, 1, parent));
                    else if (digit) out.add(new NumberFrame(integer, INT, 1, parent));
                    return;
                }
                case ZERO, INT -> {
                    if (digit && phase == INT && digits < MAX_DIGITS) {
                        out.add(new NumberFrame(integer, INT, digits + 1, parent));
                        return;
                    }
                    if (point) {
                        out.add(new NumberFrame(integer, DOT, 0, parent));
                        return;
                    }
                }
                case DOT -> {
                    if (digit) out.add(new NumberFrame(integer, FRACTION, 1, parent));
                    return;
                }
                case FRACTION -> {
                    if (digit && digits < MAX_DIGITS) {
                        out.add(new NumberFrame(integer, FRACTION, digits + 1, parent));
                        return;
                    }
                }
                case EXPONENT -> {
                    if (b == '+' || b == '-') out.add(new NumberFrame(integer, EXPONENT_SIGN, 0, parent));
                    else if (digit) out.add(new NumberFrame(integer, EXPONENT_DIGITS, 1, parent));
                    return;
                }
                case EXPONENT_SIGN -> {
                    if (digit) out.add(new NumberFrame(integer, EXPONENT_DIGITS, 1, parent));
                    return;
                }
                default -> {
                    if (digit && digits < MAX_EXPONENT_DIGITS) {
                        out.add(new NumberFrame(integer, EXPONENT_DIGITS, digits + 1, parent));
                        return;
                    }
                }
            }
            if (exponent && phase != EXPONENT_DIGITS) {
                out.add(new NumberFrame(integer, EXPONENT, 0, parent));
                return;
            }
            // A complete number ends at this byte, which belongs to what follows.
            parent.step(b, out);
        }

        @Override
        public boolean canEnd() {
            return complete() && parent.canEnd();
        }

        private boolean complete() {
            return phase == ZERO || phase == INT || phase == FRACTION || phase == EXPONENT_DIGITS;
        }

        @Override
        public boolean sameHere(Frame other) {
            NumberFrame o = (NumberFrame) other;
            return integer == o.integer && phase == o.phase && digits == o.digits;
        }
    }

    /**
     * Inside one of fixed strings: {@code values[lo..hi)} are those that begin with the {@code pos}
     * bytes read. Sorted, so one of them that is complete is {@code values[lo]}; it may still be a
     * prefix of another ({@code 1} and {@code 12} in an enum), so it ends only when a byte that
     * none of them continues with arrives.
     */
    record LiteralFrame(Literals shape, int lo, int hi, int pos, Frame parent) implements Frame {

        static void start(Literals shape, int b, Frame parent, Frames out) {
            new LiteralFrame(shape, 0, shape.values.length, 0, parent).step(b, out);
        }

        @Override
        public void step(int b, Frames out) {
            byte[][] values = shape.values;
            int from = lo;
            if (values[from].length == pos) {
                parent.step(b, out);
                from++;
            }
            while (from < hi && (values[from][pos] & 0xFF) < b) from++;
            int to = from;
            while (to < hi && (values[to][pos] & 0xFF) == b) to++;
            if (to > from) out.add(new LiteralFrame(shape, from, to, pos + 1, parent));
        }

        @Override
        public boolean canEnd() {
            return shape.values[lo].length == pos && parent.canEnd();
        }

        @Override
        public boolean sameHere(Frame other) {
            LiteralFrame o = (LiteralFrame) other;
            return shape == o.shape && lo == o.lo && hi == o.hi && pos == o.pos;
        }
    }

    /** Inside an array, {@code count} items in; {@code opened}: right after the bracket. */
    record ArrayFrame(ArrayShape shape, int count, boolean opened, int ws, Frame parent) implements Frame {
        @Override
        public void step(int b, Frames out) {
            if (isWhitespace(b)) {
                if (ws < Shape.MAX_WHITESPACE) out.add(new ArrayFrame(shape, count, opened, ws + 1, parent));
                return;
            }
            if (b == ']' && count >= shape.minItems()) out.add(parent);
            if (opened) {
                Shape first = shape.item(0);
                if (first != null) start(first, b, new ArrayFrame(shape, 1, false, 0, parent), out);
            } else if (b == ',') {
                Shape next = shape.item(count);
                if (next != null) out.add(new ValueStart(next, new ArrayFrame(shape, count + 1, false, 0, parent), 0));
            }
        }
        @Override
        public boolean sameHere(Frame other) {
            ArrayFrame o = (ArrayFrame) other;
            return shape == o.shape && count == o.count && opened == o.opened && ws == o.ws;
        }
    }

    /** Every state the first byte {@code b} of a value of {@code shape} leads to, followed by {@code parent}. */
    static void start(Shape shape, int b, Frame parent, Frames out) {
        if (shape instanceof ObjectShape s) {
            if (b == '{' && !tooDeep(parent)) out.add(new ObjectFrame(s, 0, List.of(), ObjectFrame.OPENED, null, 0, parent));
        } else if (shape instanceof ArrayShape s) {
            if (b == '[' && !tooDeep(parent)) out.add(new ArrayFrame(s, 0, true, 0, parent));
        } else if (shape instanceof StringShape s) {
            if (b == '"') out.add(new StringFrame(s, 0, StringLexer.NORMAL, parent));
        } else if (shape instanceof NumberShape s) {
            NumberFrame.start(s, b, parent, out);
        } else if (shape instanceof Literals s) {
            LiteralFrame.start(s, b, parent, out);
        } else if (shape instanceof Shape.Union u) {
            for (Shape option : u.options()) start(option, b, parent, out);
        } else if (shape instanceof Shape.Ref r) {
            start(r.target, b, parent, out);
        } else {
            // Shape.Any: whichever kind of value the byte begins.
            start(Frames.ANY_VALUE, b, parent, out);
        }
    }

    static boolean isWhitespace(int b) {
        return b == ' ' || b == '\n' || b == '\r' || b == '\t';
    }
}
