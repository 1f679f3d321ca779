package dev.podserve.kvcache;

import java.util.Arrays;

/** The pages of one request in position order: page {@code i} holds positions {@code i*blockSize ..}. */
final class BlockTable {

    private int[] blocks = new int[4];
    private int size;

    int size() {
        return size;
    }

    void append(int[] newBlocks) {
        if (size + newBlocks.length > blocks.length) {
            blocks = Arrays.copyOf(blocks, Math.max(blocks.length * 2, size + newBlocks.length));
        }
        System.arraycopy(newBlocks, 0, blocks, size, newBlocks.length);
        size += newBlocks.length;
    }

    int[] toArray() {
        return Arrays.copyOf(blocks, size);
    }

    void copyTo(int[] dest, int destPos, int count) {
        if (count < 0 || count > size) {
            throw new IllegalArgumentException("asked for " + count + " blocks, the request owns " + size);
        }
        System.arraycopy(blocks, 0, dest, destPos, count);
    }
}
