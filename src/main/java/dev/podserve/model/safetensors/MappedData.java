package dev.podserve.model.safetensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;

/**
 * A read-only memory mapping of a byte range of a file, as several mappings because one
 * {@link MappedByteBuffer} holds at most 2^31-1 bytes.
 *
 * <p>Mapping k starts at {@code k * chunkBytes} and runs {@link #OVERLAP} bytes into the next one,
 * so an element that straddles a chunk boundary (safetensors does not align tensors) is still whole
 * inside the mapping where it starts.
 */
final class MappedData {

    /** At least the largest element, so one whole element always fits past a boundary. */
    static final int OVERLAP = 8;
    /** One mapping must stay below 2^31 bytes, overlap included. */
    static final long MAX_CHUNK_BYTES = Integer.MAX_VALUE - OVERLAP;

    private final long size;
    private final long chunkBytes;
    private final MappedByteBuffer[] chunks;

    private MappedData(long size, long chunkBytes, MappedByteBuffer[] chunks) {
        this.size = size;
        this.chunkBytes = chunkBytes;
        this.chunks = chunks;
    }

    /** Maps {@code size} bytes of {@code channel} from {@code start}; the mappings outlive the channel. */
    static MappedData map(FileChannel channel, long start, long size, long chunkBytes) throws IOException {
        if (chunkBytes < 1 || chunkBytes > MAX_CHUNK_BYTES) {
            throw new IllegalArgumentException("mapping chunk must be 1.." + MAX_CHUNK_BYTES + " bytes, got " + chunkBytes);
        }
        int n = (int) ((size + chunkBytes - 1) / chunkBytes);
        MappedByteBuffer[] chunks = new MappedByteBuffer[n];
        for (int k = 0; k < n; k++) {
            long from = k * chunkBytes;
            long length = Math.min(chunkBytes + OVERLAP, size - from);
            chunks[k] = channel.map(FileChannel.MapMode.READ_ONLY, start + from, length);
        }
        return new MappedData(size, chunkBytes, chunks);
    }

    long size() {
        return size;
    }

    int mappings() {
        return chunks.length;
    }

    /** The mapping holding byte {@code pos}; read it from {@link #offsetIn}. Its capacity bounds what follows. */
    ByteBuffer chunkAt(long pos) {
        return chunks[(int) (pos / chunkBytes)];
    }

    int offsetIn(long pos) {
        return (int) (pos % chunkBytes);
    }
}
