package dev.podserve.kvcache;

import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.IntUnaryOperator;

/**
 * Which request holds which KV pages. A request's pages grow as its computed context grows and are
 * all given back at once when it finishes or is preempted.
 *
 * <p>With prefix caching, every full page a request has computed is registered under the hash of
 * its tokens and all tokens before it ({@link BlockHash}). A new request whose prompt starts with
 * registered pages holds those instead of computing them ({@link #findCachedPrefix},
 * {@link #adoptCachedPrefix}); a page given back by everyone stays registered, idle, until the
 * pool needs it for something else. Only full pages are shared, and a request only ever writes
 * positions past its computed prefix, so no request writes a page another one reads.
 */
public final class KvCacheManager {

    private final BlockPool pool;
    private final int blockSize;
    private final Map<String, BlockTable> tables = new HashMap<>();
    private final boolean prefixCaching;
    /** Null without prefix caching. */
    private final BlockHash.Hasher hasher;

    /** A manager without prefix caching. */
    public KvCacheManager(int numBlocks, int blockSize) {
        this(numBlocks, blockSize, false);
    }

    public KvCacheManager(int numBlocks, int blockSize, boolean prefixCaching) {
        if (blockSize < 1) {
            throw new IllegalArgumentException("block size must be at least 1 token, got " + blockSize);
        }
        this.pool = new BlockPool(numBlocks);
        this.blockSize = blockSize;
        this.prefixCaching = prefixCaching;
        this.hasher = prefixCaching ? new BlockHash.Hasher(blockSize) : null;
    }

    public boolean prefixCaching() {
        return prefixCaching;
    }

    /**
     * Registered pages found for the start of a prompt.
     *
     * @param blocks  the pages, in position order
     * @param numIdle how many of them nobody holds now: adopting those takes that many free pages
     */
    public record CachedPrefix(int[] blocks, int numIdle) {

        public static final CachedPrefix NONE = new CachedPrefix(new int[0], 0);

        public int numBlocks() {
            return blocks.length;
        }
    }

    /**
     * The longest run of registered pages that the tokens {@code tokenAt(0 ..)} start with, covering at
     * most {@code maxTokens} tokens, their hashes taken from (and added to) {@code chain}. Takes
     * nothing; {@link CachedPrefix#NONE} without prefix caching.
     */
    public CachedPrefix findCachedPrefix(PrefixHashes chain, IntUnaryOperator tokenAt, int maxTokens) {
        int found = numCachedPages(chain, tokenAt, maxTokens, 0);
        if (found == 0) {
            return CachedPrefix.NONE;
        }
        int[] blocks = new int[found];
        int idle = 0;
        for (int i = 0; i < found; i++) {
            blocks[i] = pool.lookup(chain.page(i, tokenAt, hasher));
            idle += pool.refCount(blocks[i]) == 0 ? 1 : 0;
        }
        return new CachedPrefix(blocks, idle);
    }

    /**
     * Whether page {@code page} holds the same tokens, after the same earlier ones and under the same
     * salt, in two requests: once either has computed it, the other would find it registered. False
     * without prefix caching.
     */
    public boolean samePage(PrefixHashes a, IntUnaryOperator aTokens, PrefixHashes b, IntUnaryOperator bTokens, int page) {
        return prefixCaching && a.page(page, aTokens, hasher).equals(b.page(page, bTokens, hasher));
    }

    /**
     * How many registered pages the tokens start with, as {@link #findCachedPrefix} would find,
     * looking up only from page {@code from} on: the caller knows the pages before it are registered.
     */
    public int numCachedPages(PrefixHashes chain, IntUnaryOperator tokenAt, int maxTokens, int from) {
        if (!prefixCaching || maxTokens < blockSize) {
            return 0;
        }
        int maxPages = maxTokens / blockSize;
        int found = Math.min(from, maxPages);
        while (found < maxPages && pool.lookup(chain.page(found, tokenAt, hasher)) >= 0) {
            found++;
        }
        return found;
    }

    /**
     * Makes a request that holds nothing hold the pages of {@code prefix}, found just before with
     * nothing given back or taken in between.
     *
     * @return the tokens those pages hold
     * @throws IllegalStateException if the request already holds pages
     */
    public int adoptCachedPrefix(String requestId, CachedPrefix prefix) {
        if (prefix.numBlocks() == 0) {
            return 0;
        }
        if (tables.containsKey(requestId)) {
            throw new IllegalStateException("request " + requestId + " already holds pages");
        }
        BlockTable table = new BlockTable();
        for (int i = 0; i < prefix.numBlocks(); i++) {
            pool.retain(prefix.blocks()[i]);
            table.countHashed();
        }
        table.append(prefix.blocks());
        tables.put(requestId, table);
        return prefix.numBlocks() * blockSize;
    }

    /**
     * Registers the request's full pages among its first {@code computedTokens} tokens that are not
     * registered yet, hashing them through {@code chain}. A page whose contents another page already
     * holds stays unregistered (it is simply freed later). Nothing happens without prefix caching.
     */
    public void cacheFullPages(String requestId, PrefixHashes chain, IntUnaryOperator tokenAt, int computedTokens) {
        BlockTable table = tables.get(requestId);
        if (!prefixCaching || table == null) {
            return;
        }
        int full = Math.min(computedTokens / blockSize, table.size());
        for (int page = table.numHashed(); page < full; page++) {
            pool.register(table.block(page), chain.page(page, tokenAt, hasher));
            table.countHashed();
        }
    }

    /** Registered pages nobody holds (counted among the free ones). */
    public int numIdleBlocks() {
        return pool.numIdle();
    }

    /** Idle registered pages reused for other contents since this manager was made. */
    public long numEvictions() {
        return pool.numEvictions();
    }

    /** Requests holding the page: more than one only for a shared prefix page. */
    public int holdersOf(int block) {
        return pool.refCount(block);
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

    /**
     * Gives back all the request's pages; nothing happens if it has none. Registered ones go idle
     * last page first, so a cached prefix is evicted from its end.
     */
    public void free(String requestId) {
        BlockTable table = tables.remove(requestId);
        if (table != null) {
            pool.free(table.toArrayReversed());
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
