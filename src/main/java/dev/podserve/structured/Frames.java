package dev.podserve.structured;

import java.util.List;

import dev.podserve.structured.Shape.ArrayShape;
import dev.podserve.structured.Shape.Literals;
import dev.podserve.structured.Shape.NumberShape;
import dev.podserve.structured.Shape.ObjectShape;
import dev.podserve.structured.Shape.StringShape;

/**
 * A set of recognizer states: the branches one input has opened (a union whose options begin
 * alike, a number that may still grow). Equal states are kept once, so branches that meet again
 * do not multiply. Reused between steps: {@link #clear} empties it without freeing its array.
 */
final class Frames {

    /**
     * Most states one input may leave open. A schema whose branches stay apart for this long
     * (dozens of nested unions of look-alike objects) fails its request rather than slow every step.
     */
    static final int MAX_STATES = 256;

    /** What a value of any kind may begin as (kept here, not on {@link Shape.Any}, to keep class initialisation acyclic). */
    static final Shape.Union ANY_VALUE = new Shape.Union(List.of(ObjectShape.FREE, ArrayShape.FREE, StringShape.FREE,
            NumberShape.NUMBER, Literals.of(List.of(Literals.bytes("true"), Literals.bytes("false"), Literals.bytes("null")))));

    /** [capacity]: the states, the first {@link #size} in use. */
    Frame[] items = new Frame[4];
    int size;

    void add(Frame f) {
        for (int i = 0; i < size; i++) {
            if (Frame.same(items[i], f)) return;
        }
        if (size == items.length) {
            if (size >= MAX_STATES) {
                throw new IllegalStateException("the response format is too ambiguous: more than " + MAX_STATES
                        + " ways to read the output so far");
            }
            items = java.util.Arrays.copyOf(items, size * 2);
        }
        items[size++] = f;
    }

    void clear() {
        // Dropping the references is not needed for correctness, only so old states can be collected.
        java.util.Arrays.fill(items, 0, size, null);
        size = 0;
    }

    boolean isEmpty() {
        return size == 0;
    }

    /** Fills {@code out} with the states that byte {@code b} leads to from these. */
    void step(int b, Frames out) {
        out.clear();
        for (int i = 0; i < size; i++) items[i].step(b, out);
    }

    boolean canEnd() {
        for (int i = 0; i < size; i++) {
            if (items[i].canEnd()) return true;
        }
        return false;
    }
}
