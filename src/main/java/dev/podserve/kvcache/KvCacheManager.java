package dev.podserve.kvcache;

import java.util.HashMap;
import java.util.Map;

/**
 * Which request owns which KV pages. A request's pages grow as its computed context grows and are
 * all returned at once when it finishes or is preempted; pages are never shared between requests
 * (no prefix caching), so each page has exactly one owner.
 */
public final class KvCacheManager {

    private final BlockPool pool;
    private final int blockSize;
    private final Map<String, BlockTable> tables = new HashMap<>();

    public KvCacheManager(int numBlocks, int blockSize) {
        if (blockSize < 1) {
            throw new IllegalArgumentException("block size must be at least 1 token, got " + blockSize);
        }
        this.pool = new BlockPool(numBlocks);
        this.blockSize = blockSize;
    }

    public int blockSize() {
        return blockSize;
    }

    public int numBlocks() {
        return pool.numBlocks();
    }

    public int numFreeBlocks() {
        return pool.numFree();
    }

    /** Fraction of pages in use, 0.0 .. 1.0. */
    public double usage() {
        return pool.usage();
    }

    /** Tokens the whole pool holds, saturated at {@code Integer.MAX_VALUE}. */
    public int capacityTokens() {
        return (int) Math.min((long) pool.numBlocks() * blockSize, Integer.MAX_VALUE);
    }

    /** Pages that hold {@code numTokens} tokens. */
    public int blocksNeeded(int numTokens) {
        if (numTokens < 0) {
            throw new IllegalArgumentException("token count must not be negative, got " + numTokens);
        }
        // Written without (n + size - 1) so that counts near Integer.MAX_VALUE do not overflow.
        return numTokens / blockSize + (numTokens % blockSize == 0 ? 0 : 1);
    }

    /** Pages the request owns now. */
    public int numBlocksOf(String requestId) {
        BlockTable table = tables.get(requestId);
        return table == null ? 0 : table.size();
    }

    /** Pages {@link #allocateSlots} would have to take for the request to hold {@code numTotalTokens}. */
    public int numMissingBlocks(String requestId, int numTotalTokens) {
        return Math.max(0, blocksNeeded(numTotalTokens) - numBlocksOf(requestId));
    }

    public boolean canAllocate(String requestId, int numTotalTokens) {
        return pool.canAllocate(numMissingBlocks(requestId, numTotalTokens));
    }

    /**
     * Makes the request own enough pages for {@code numTotalTokens} tokens, taking only the missing
     * ones. Never shrinks.
     *
     * @return false, with nothing taken, if the pool lacks the missing pages
     */
    public boolean allocateSlots(String requestId, int numTotalTokens) {
        int missing = numMissingBlocks(requestId, numTotalTokens);
        if (missing == 0) {
            return true;
        }
        if (!pool.canAllocate(missing)) {
            return false;
        }
        tables.computeIfAbsent(requestId, id -> new BlockTable()).append(pool.allocate(missing));
        return true;
    }

    /** Returns all the request's pages to the pool; nothing happens if it has none. */
    public void free(String requestId) {
        BlockTable table = tables.remove(requestId);
        if (table != null) {
            pool.free(table.toArray());
        }
    }

    /** The request's pages in position order (a copy; empty if it has none). */
    public int[] blocks(String requestId) {
        BlockTable table = tables.get(requestId);
        return table == null ? new int[0] : table.toArray();
    }

    /**
     * Copies the request's first {@code count} pages into {@code dest} at {@code destPos}, so that
     * batch assembly can fill its CSR array without a temporary copy per request.
     */
    public void copyBlocks(String requestId, int count, int[] dest, int destPos) {
        BlockTable table = tables.get(requestId);
        if (table == null) {
            if (count != 0) {
                throw new IllegalArgumentException("request " + requestId + " owns no blocks, asked for " + count);
            }
            return;
        }
        table.copyTo(dest, destPos, count);
    }

    /** Requests that own at least one page; 0 once everything has been freed (no leak). */
    public int numRequestsWithBlocks() {
        return tables.size();
    }
}
