package dev.podserve.backend.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.LongBuffer;

import org.bytedeco.javacpp.BytePointer;

/**
 * One step's structured-output masks on their way to the device: packed, one per constrained row,
 * into a page-locked buffer of their own and copied on the step's stream behind the step's work,
 * so the masks can be worked out on the host while the step runs, and the staging buffer the step's
 * own inputs went through is not touched. Reused step after step; not thread-safe (the backend
 * uses it under its own lock).
 *
 * <p>A host mask is {@code long[ceil(vocab / 64)]}, token t at bit t % 64 of word t / 64; read as
 * little-endian 32-bit words that is ps_token_mask's layout, token t at bit t % 32 of word t / 32.
 */
final class TokenMasks implements AutoCloseable {

    private final int maxRows;
    /** 64-bit words of one mask: ceil(vocab / 64). */
    private final int longs;
    private final PinnedHostMemory memory;
    /** [maxRows][longs] 64-bit mask words, then [maxRows] int32 row indices. */
    private final BytePointer stage;
    private final ByteBuffer buf;
    private int count;

    TokenMasks(int maxRows, int vocab) {
        this.maxRows = maxRows;
        this.longs = (vocab + 63) / 64;
        this.memory = new PinnedHostMemory(8L * maxRows * longs + 4L * maxRows);
        this.stage = memory.bytes;
        this.buf = stage.asByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    /** uint32 words between masks on the device: ceil(vocab / 64) * 2, whole 64-bit host words. */
    static int words(int vocab) {
        return 2 * ((vocab + 63) / 64);
    }

    /**
     * Packs the non-null masks (indexed by logits row) and queues their upload to {@code masks}
     * and {@code rows} on the stream; returns their count.
     */
    int upload(CudaContext ctx, long[][] rowMasks, long masks, long rows) {
        count = 0;
        if (rowMasks == null) return 0;
        LongBuffer words = buf.asLongBuffer();
        int rowsAt = 8 * maxRows * longs;
        for (int s = 0; s < rowMasks.length; s++) {
            long[] m = rowMasks[s];
            if (m == null) continue;
            if (m.length != longs) throw new IllegalArgumentException("a mask of " + m.length + " words; the vocabulary takes " + longs);
            if (count == maxRows) throw new IllegalArgumentException("more than " + maxRows + " masks in one step");
            words.put(count * longs, m);
            buf.putInt(rowsAt + 4 * count, s);
            count++;
        }
        if (count == 0) return 0;
        ctx.upload(masks, stage, 8L * count * longs);
        ctx.upload(rows, new BytePointer(stage).position(rowsAt), 4L * count);
        return count;
    }

    @Override
    public void close() {
        memory.close();
    }
}
