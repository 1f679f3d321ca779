package dev.podserve.kvcache;

/**
 * A fixed set of KV pages, identified by {@code 0 .. numBlocks-1}, handed out and taken back.
 *
 * <p>Free pages sit on a stack: the page freed last is reused first, which keeps the working set
 * of a lightly loaded server in few pages (warm in the GPU's L2). Every page's ownership is
 * tracked so that a double free or a stray id fails loudly here instead of silently letting two
 * requests write the same KV slots.
 */
public final class BlockPool {

    private final int[] freeStack;
    private final boolean[] allocated;
    private int numFree;

    public BlockPool(int numBlocks) {
        if (numBlocks < 1) {
            throw new IllegalArgumentException("a block pool needs at least 1 block, got " + numBlocks);
        }
        freeStack = new int[numBlocks];
        allocated = new boolean[numBlocks];
        // Pushed in descending order so that a fresh pool hands out 0, 1, 2, ...: easier to read in logs.
        for (int i = 0; i < numBlocks; i++) {
            freeStack[i] = numBlocks - 1 - i;
        }
        numFree = numBlocks;
    }

    public int numBlocks() {
        return allocated.length;
    }

    public int numFree() {
        return numFree;
    }

    public int numUsed() {
        return allocated.length - numFree;
    }

    /** Fraction of pages in use, 0.0 .. 1.0. */
    public double usage() {
        return (double) numUsed() / allocated.length;
    }

    public boolean canAllocate(int n) {
        requireCount(n);
        return n <= numFree;
    }

    public boolean isAllocated(int block) {
        return block >= 0 && block < allocated.length && allocated[block];
    }

    /**
     * Takes {@code n} pages at once.
     *
     * @throws IllegalStateException if fewer than {@code n} are free; then nothing is taken
     */
    public int[] allocate(int n) {
        requireCount(n);
        if (n > numFree) {
            throw new IllegalStateException("cannot allocate " + n + " blocks, only " + numFree + " free");
        }
        int[] blocks = new int[n];
        for (int i = 0; i < n; i++) {
            int block = freeStack[--numFree];
            allocated[block] = true;
            blocks[i] = block;
        }
        return blocks;
    }

    /**
     * Gives pages back, all of them or none.
     *
     * @throws IllegalStateException if an id is out of range, not allocated, or repeated in {@code blocks};
     *                               then nothing is freed
     */
    public void free(int... blocks) {
        for (int i = 0; i < blocks.length; i++) {
            int block = blocks[i];
            String problem = block < 0 || block >= allocated.length
                    ? "block " + block + " is not in this pool of " + allocated.length
                    : allocated[block] ? null : "block " + block + " is not allocated (double free)";
            if (problem != null) {
                // Undo the marks of this call so that a refused free leaves the pool exactly as it was.
                for (int j = 0; j < i; j++) {
                    allocated[blocks[j]] = true;
                }
                throw new IllegalStateException(problem);
            }
            // Marked now, not after the loop, so a repeated id in the same call is seen as a double free.
            allocated[block] = false;
        }
        for (int block : blocks) {
            freeStack[numFree++] = block;
        }
    }

    private static void requireCount(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("block count must not be negative, got " + n);
        }
    }
}
