package dev.podserve.kvcache;

import java.util.Arrays;

/**
 * The pages of one request in position order: page {@code i} holds positions {@code i*blockSize ..}.
 * With prefix caching it also counts its leading full pages that are registered, so each is
 * registered once.
 */
final class BlockTable {

    private int[] blocks = new int[4];
    private int size;
    /** Leading pages already registered (or found registered under another page): no need to try again. */
    private int numHashed;

    int size() {
        return size;
    }

    int block(int i) {
        return blocks[i];
    }

    void append(int[] newBlocks) {
        if (size + newBlocks.length > blocks.length) {
            blocks = Arrays.copyOf(blocks, Math.max(blocks.length * 2, size + newBlocks.length));
        }
        System.arraycopy(newBlocks, 0, blocks, size, newBlocks.length);
        size += newBlocks.length;
    }

    int numHashed() {
        return numHashed;
    }

    void countHashed() {
        numHashed++;
    }

    int[] toArray() {
        return Arrays.copyOf(blocks, size);
    }

    /** The pages last first, so that freed pages of a prefix go idle tail first and are evicted in that order. */
    int[] toArrayReversed() {
        int[] out = new int[size];
        for (int i = 0; i < size; i++) {
            out[i] = blocks[size - 1 - i];
        }
        return out;
    }

    void copyTo(int[] dest, int destPos, int count) {
        if (count < 0 || count > size) {
            throw new IllegalArgumentException("asked for " + count + " blocks, the request owns " + size);
        }
        System.arraycopy(blocks, 0, dest, destPos, count);
    }
}
