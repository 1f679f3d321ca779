package dev.podserve.kvcache;

import java.util.Arrays;
import java.util.function.IntUnaryOperator;

/**
 * The page hashes of one request's tokens, computed once and extended as pages fill. A request's
 * tokens are only ever appended, so page i's hash never changes once known; keeping them spares
 * rehashing a long prompt on every step it waits at the head of the queue, and again when its pages
 * are registered.
 *
 * <p>The chain starts from a root: {@link BlockHash#ROOT}, shared by every request, or one derived
 * from a salt, so that only requests with the same salt can find each other's pages.
 */
public final class PrefixHashes {

    private final String salt;
    private BlockHash[] hashes = new BlockHash[0];
    private int known;
    /** The page size the hashes were computed for; 0 until the first. */
    private int blockSize;

    /** @param salt null or empty to share pages with every unsalted request */
    public PrefixHashes(String salt) {
        this.salt = salt;
    }

    /** Computed on first use: without prefix caching a sequence never hashes anything, salted or not. */
    private BlockHash root() {
        return salt == null || salt.isEmpty() ? BlockHash.ROOT : BlockHash.rootFor(salt);
    }

    /** Hash of page {@code page} of the tokens {@code tokenAt}, computing the ones before it as needed. */
    BlockHash page(int page, IntUnaryOperator tokenAt, BlockHash.Hasher hasher) {
        if (blockSize == 0) {
            blockSize = hasher.blockSize();
        } else if (blockSize != hasher.blockSize()) {
            throw new IllegalStateException("hashes of " + blockSize + "-token pages asked for " + hasher.blockSize());
        }
        if (page >= hashes.length) {
            hashes = Arrays.copyOf(hashes, Math.max(page + 1, hashes.length * 2));
        }
        for (; known <= page; known++) {
            hashes[known] = hasher.next(known == 0 ? root() : hashes[known - 1], tokenAt, known);
        }
        return hashes[page];
    }
}
