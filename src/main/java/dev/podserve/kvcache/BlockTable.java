package dev.podserve.kvcache;

import java.util.Arrays;

/**
 * The pages of one request in position order: page {@code i} holds positions {@code i*blockSize ..}.
 * With prefix caching it also keeps the hashes of its leading full pages, so the chain continues
 * from the last one without rehashing the prefix.
 */
final class BlockTable {

    private int[] blocks = new int[4];
    private int size;
    /** hashes[i] identifies page i's contents, for i below numHashed. */
    private BlockHash[] hashes = new BlockHash[0];
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

    /** The hash the next page chains from. */
    BlockHash lastHash() {
        return numHashed == 0 ? BlockHash.ROOT : hashes[numHashed - 1];
    }

    void addHash(BlockHash hash) {
        if (numHashed == hashes.length) {
            hashes = Arrays.copyOf(hashes, Math.max(8, hashes.length * 2));
        }
        hashes[numHashed++] = hash;
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
