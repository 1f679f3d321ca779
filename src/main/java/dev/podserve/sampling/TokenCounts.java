package dev.podserve.sampling;

import java.util.Arrays;

/**
 * How often each token id occurred, for the frequency and presence penalties. A request usually
 * emits a few hundred distinct tokens out of a vocabulary of 100K+, so an open-addressing map keeps
 * the per-request memory and the per-step penalty pass proportional to the distinct outputs, not
 * to the vocabulary.
 */
final class TokenCounts {

    private static final int EMPTY = -1;

    private int[] keys = emptyKeys(16);
    private int[] counts = new int[16];
    private int size;

    void increment(int token) {
        if (2 * (size + 1) > keys.length) grow();
        int slot = find(keys, token);
        if (keys[slot] == EMPTY) {
            keys[slot] = token;
            size++;
        }
        counts[slot]++;
    }

    int count(int token) {
        int slot = find(keys, token);
        return keys[slot] == EMPTY ? 0 : counts[slot];
    }

    int distinct() {
        return size;
    }

    /** Calls the visitor once per distinct token, in no particular order. */
    void forEach(Visitor visitor) {
        for (int slot = 0; slot < keys.length; slot++) {
            if (keys[slot] != EMPTY) visitor.visit(keys[slot], counts[slot]);
        }
    }

    @FunctionalInterface
    interface Visitor {
        void visit(int token, int count);
    }

    private void grow() {
        int[] oldKeys = keys;
        int[] oldCounts = counts;
        keys = emptyKeys(oldKeys.length * 2);
        counts = new int[keys.length];
        for (int slot = 0; slot < oldKeys.length; slot++) {
            if (oldKeys[slot] == EMPTY) continue;
            int to = find(keys, oldKeys[slot]);
            keys[to] = oldKeys[slot];
            counts[to] = oldCounts[slot];
        }
    }

    /** Linear probing; the table is at most half full, so an empty slot always ends the probe. */
    private static int find(int[] table, int token) {
        int mask = table.length - 1;
        int slot = mix(token) & mask;
        while (table[slot] != EMPTY && table[slot] != token) slot = (slot + 1) & mask;
        return slot;
    }

    /** Consecutive ids are common (byte tokens, digits); scrambling keeps them from forming long probe runs. */
    private static int mix(int token) {
        int h = token * 0x9E3779B9;
        return h ^ (h >>> 16);
    }

    private static int[] emptyKeys(int capacity) {
        int[] table = new int[capacity];
        Arrays.fill(table, EMPTY);
        return table;
    }
}
