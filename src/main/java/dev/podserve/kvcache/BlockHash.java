package dev.podserve.kvcache;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.function.IntUnaryOperator;

/**
 * The identity of a full KV page's contents: 128 bits of SHA-256 over the previous page's hash and
 * this page's token ids. A page's K/V depend on every token before it, so chaining makes equal
 * hashes mean equal prefixes. A cryptographic hash, because a collision would hand one request
 * another's K/V: a client able to craft one could read what the other prompt held.
 *
 * @param hi first 64 bits of the digest
 * @param lo next 64 bits
 */
public record BlockHash(long hi, long lo) {

    /** What the first page of an unsalted request chains from. */
    public static final BlockHash ROOT = new BlockHash(0, 0);

    /** What the first page of a request salted with {@code salt} chains from. */
    static BlockHash rootFor(String salt) {
        return of(sha256().digest(("podserve cache salt\0" + salt).getBytes(StandardCharsets.UTF_8)));
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every Java runtime provides SHA-256", e);
        }
    }

    /** The first 128 bits of a digest. */
    private static BlockHash of(byte[] digest) {
        ByteBuffer d = ByteBuffer.wrap(digest);
        return new BlockHash(d.getLong(), d.getLong());
    }

    /**
     * Hashes page contents; one per KV manager, used from its (single) engine thread.
     */
    static final class Hasher {
        private final MessageDigest sha256;
        private final ByteBuffer input;
        private final int blockSize;

        Hasher(int blockSize) {
            this.blockSize = blockSize;
            this.sha256 = sha256();
            // Layout: parent hi, parent lo (8 bytes each), then blockSize token ids (4 bytes each).
            input = ByteBuffer.allocate(16 + 4 * blockSize);
        }

        int blockSize() {
            return blockSize;
        }

        /** The hash of page {@code page} (tokens {@code page*blockSize ..}) after a page hashed {@code parent}. */
        BlockHash next(BlockHash parent, IntUnaryOperator tokenAt, int page) {
            input.clear();
            input.putLong(parent.hi()).putLong(parent.lo());
            int first = page * blockSize;
            for (int i = 0; i < blockSize; i++) {
                input.putInt(tokenAt.applyAsInt(first + i));
            }
            return of(sha256.digest(input.array()));
        }
    }
}
