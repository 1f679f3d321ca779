package dev.podserve.kvcache;

import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.Map;

/**
 * A fixed set of KV pages, identified by {@code 0 .. numBlocks-1}, handed out and taken back.
 *
 * <p>A page is in one of three states:
 * <ul>
 *   <li><b>free</b>: on a stack; the page freed last is reused first, which keeps the working set
 *       of a lightly loaded server in few pages (warm in the GPU's L2);</li>
 *   <li><b>in use</b>: held by one or more requests ({@link #refCount}); only a full page whose
 *       contents are registered under a {@link BlockHash} is ever held by more than one;</li>
 *   <li><b>idle</b>: registered, held by nobody, its K/V still valid for a request whose prefix
 *       hashes the same. Idle pages count as free: when the stack runs out, the page idle longest
 *       is taken back and its registration dropped.</li>
 * </ul>
 * Every page's count is tracked so that a double free or a stray id fails loudly here instead of
 * silently letting two requests write the same KV slots.
 */
public final class BlockPool {

    private final int[] freeStack;
    private int numOnStack;
    /** References per page; 0 for free and idle pages. */
    private final int[] refCount;
    /** Whether the page is on the free stack or idle: what a release must not do twice. */
    private final boolean[] parked;
    /** Registration per page, null when none. */
    private final BlockHash[] hashOf;
    private final Map<BlockHash, Integer> pageOf = new HashMap<>();
    /** Registered pages nobody holds, longest idle first. */
    private final LinkedHashSet<Integer> idle = new LinkedHashSet<>();
    private long evictions;

    public BlockPool(int numBlocks) {
        if (numBlocks < 1) {
            throw new IllegalArgumentException("a block pool needs at least 1 block, got " + numBlocks);
        }
        freeStack = new int[numBlocks];
        refCount = new int[numBlocks];
        hashOf = new BlockHash[numBlocks];
        parked = new boolean[numBlocks];
        java.util.Arrays.fill(parked, true);
        // Pushed in descending order so that a fresh pool hands out 0, 1, 2, ...: easier to read in logs.
        for (int i = 0; i < numBlocks; i++) {
            freeStack[i] = numBlocks - 1 - i;
        }
        numOnStack = numBlocks;
    }

    public int numBlocks() {
        return refCount.length;
    }

    /** Pages {@link #allocate} can hand out: free ones and idle registered ones. */
    public int numFree() {
        return numOnStack + idle.size();
    }

    public int numUsed() {
        return refCount.length - numFree();
    }

    /** Registered pages that nobody holds. */
    public int numIdle() {
        return idle.size();
    }

    /** Idle pages taken back for new contents since the pool was made. */
    public long numEvictions() {
        return evictions;
    }

    /** Fraction of pages in use, 0.0 .. 1.0; idle registered pages count as free. */
    public double usage() {
        return (double) numUsed() / refCount.length;
    }

    public boolean canAllocate(int n) {
        requireCount(n);
        return n <= numFree();
    }

    /** Whether a request holds the page. */
    public boolean isAllocated(int block) {
        return block >= 0 && block < refCount.length && refCount[block] > 0;
    }

    /** Requests holding the page. */
    public int refCount(int block) {
        return refCount[block];
    }

    /**
     * Takes {@code n} pages at once, each held once: free pages first, then the longest-idle
     * registered ones, whose registrations are dropped.
     *
     * @throws IllegalStateException if fewer than {@code n} are free or idle; then nothing is taken
     */
    public int[] allocate(int n) {
        requireCount(n);
        if (n > numFree()) {
            throw new IllegalStateException("cannot allocate " + n + " blocks, only " + numFree() + " free");
        }
        int[] blocks = new int[n];
        Iterator<Integer> oldestIdle = idle.iterator();
        for (int i = 0; i < n; i++) {
            int block;
            if (numOnStack > 0) {
                block = freeStack[--numOnStack];
            } else {
                block = oldestIdle.next();
                oldestIdle.remove();
                pageOf.remove(hashOf[block]);
                hashOf[block] = null;
                evictions++;
            }
            refCount[block] = 1;
            parked[block] = false;
            blocks[i] = block;
        }
        return blocks;
    }

    /**
     * Gives back one reference to each page, all of them or none. A page nobody holds any more goes
     * to the free stack, or, if registered, joins the idle pages as the most recently used, in the
     * order given.
     *
     * @throws IllegalStateException if an id is out of range or would be released more often than it
     *                               is held (a double free, or a repeat in {@code blocks}); then nothing
     *                               is released
     */
    public void free(int... blocks) {
        for (int i = 0; i < blocks.length; i++) {
            int block = blocks[i];
            String problem = block < 0 || block >= refCount.length
                    ? "block " + block + " is not in this pool of " + refCount.length
                    : refCount[block] > 0 ? null : "block " + block + " is not allocated (double free)";
            if (problem != null) {
                // Undo the decrements of this call so that a refused free leaves the pool exactly as it was.
                for (int j = 0; j < i; j++) {
                    refCount[blocks[j]]++;
                }
                throw new IllegalStateException(problem);
            }
            // Decremented now, not after the loop, so a repeat beyond the page's count is seen as a double free.
            refCount[block]--;
        }
        for (int block : blocks) {
            // The last reference of a page listed twice (two holders at once) parks it only once.
            if (refCount[block] == 0 && !parked[block]) {
                parked[block] = true;
                if (hashOf[block] != null) {
                    idle.add(block);
                } else {
                    freeStack[numOnStack++] = block;
                }
            }
        }
    }

    /**
     * Adds a reference to a page found by {@link #lookup}, taking it out of the idle pages if nobody
     * held it.
     *
     * @throws IllegalStateException if the page is not registered
     */
    public void retain(int block) {
        if (block < 0 || block >= refCount.length || hashOf[block] == null) {
            throw new IllegalStateException("block " + block + " is not a registered page");
        }
        if (refCount[block] == 0) {
            idle.remove(block);
            parked[block] = false;
        }
        refCount[block]++;
    }

    /**
     * Registers a held page's contents under {@code hash}, so that later requests can find it.
     *
     * @return false, changing nothing, if another page is already registered under that hash
     * @throws IllegalStateException if the page is not held or already registered
     */
    public boolean register(int block, BlockHash hash) {
        if (!isAllocated(block) || hashOf[block] != null) {
            throw new IllegalStateException("block " + block + " is not a held, unregistered page");
        }
        if (pageOf.putIfAbsent(hash, block) != null) {
            return false;
        }
        hashOf[block] = hash;
        return true;
    }

    /** The page registered under {@code hash}, held or idle; -1 if none. */
    public int lookup(BlockHash hash) {
        Integer block = pageOf.get(hash);
        return block == null ? -1 : block;
    }

    private static void requireCount(int n) {
        if (n < 0) {
            throw new IllegalArgumentException("block count must not be negative, got " + n);
        }
    }
}
