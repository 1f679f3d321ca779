package dev.podserve.model.safetensors;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Map;

/**
 * One {@code *.safetensors} file: its checked header, and its data section memory-mapped (never
 * copied to the heap). {@link #read} converts any run of a tensor's elements to fp32 and may be
 * called from several threads at once.
 *
 * <p>Layout: 8-byte little-endian header length N, N bytes of UTF-8 JSON, then the data section that
 * the JSON's {@code data_offsets} index into, each tensor row-major and little-endian.
 */
public final class SafetensorsFile {

    /** Largest mapping used by {@link #open(Path)}: well below the 2^31-1 byte limit of one buffer. */
    public static final long DEFAULT_MAP_CHUNK_BYTES = 1L << 30;
    /** Elements converted per bulk copy out of the mapping: small enough to stay in L1/L2 on the way through. */
    private static final int SCRATCH = 8192;

    private final Path path;
    private final long headerBytes;
    private final Map<String, TensorEntry> tensors;
    private final MappedData data;

    private SafetensorsFile(Path path, long headerBytes, Map<String, TensorEntry> tensors, MappedData data) {
        this.path = path;
        this.headerBytes = headerBytes;
        this.tensors = tensors;
        this.data = data;
    }

    public static SafetensorsFile open(Path file) {
        return open(file, DEFAULT_MAP_CHUNK_BYTES);
    }

    /** As {@link #open(Path)} with mappings of at most {@code mapChunkBytes} (plus a few bytes of overlap) each. */
    public static SafetensorsFile open(Path file, long mapChunkBytes) {
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new CheckpointException(file + ": truncated safetensors file: " + size
                        + " bytes, shorter than the 8-byte header length");
            }
            long headerLength = SafetensorsHeader.checkLength(file, readFully(ch, 0, 8).order(ByteOrder.LITTLE_ENDIAN).getLong(), size);
            byte[] json = new byte[(int) headerLength];
            readFully(ch, 8, (int) headerLength).get(json);
            long dataStart = 8 + headerLength;
            Map<String, TensorEntry> tensors = SafetensorsHeader.parse(file, json, size - dataStart);
            return new SafetensorsFile(file, dataStart, tensors, MappedData.map(ch, dataStart, size - dataStart, mapChunkBytes));
        } catch (NoSuchFileException e) {
            throw new CheckpointException(file + ": no such file", e);
        } catch (IOException e) {
            throw new CheckpointException(file + ": cannot read (" + e + ")", e);
        }
    }

    private static ByteBuffer readFully(FileChannel ch, long position, int length) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(length);
        while (buf.hasRemaining()) {
            if (ch.read(buf, position + buf.position()) < 0) throw new EOFException("end of file at " + (position + buf.position()));
        }
        return buf.flip();
    }

    public Path path() {
        return path;
    }

    /** Tensors by name, in header order. */
    public Map<String, TensorEntry> tensors() {
        return tensors;
    }

    /** Bytes before the data section: the length field and the JSON header. */
    public long headerBytes() {
        return headerBytes;
    }

    public long dataBytes() {
        return data.size();
    }

    /** Mappings holding the data section: more than one once it passes the mapping chunk size. */
    public int mappings() {
        return data.mappings();
    }

    /**
     * Converts {@code count} elements of {@code t}, from element {@code first}, to fp32 into
     * {@code dst[dstOffset..]}. The tensor must come from this file's header and have a
     * {@link Dtype#convertible()} type.
     */
    public void read(TensorEntry t, long first, float[] dst, int dstOffset, int count) {
        Dtype type = t.type();
        if (type == null || !type.convertible()) {
            throw new CheckpointException(path + ": tensor '" + t.name() + "' has dtype " + t.dtype() + "; only BF16, F16 and F32 convert to fp32");
        }
        if (!t.equals(tensors.get(t.name()))) {
            throw new IllegalArgumentException(t.name() + " is not a tensor of " + path);
        }
        if (first < 0 || count < 0 || first + count > t.elements()) {
            throw new IndexOutOfBoundsException("elements " + first + ".." + (first + count) + " of " + t);
        }
        int size = type.bytes();
        long pos = t.begin() + first * size;
        int done = 0;
        short[] scratch = type == Dtype.F32 ? null : new short[Math.min(count, SCRATCH)];
        while (done < count) {
            ByteBuffer chunk = data.chunkAt(pos);
            int offset = data.offsetIn(pos);
            // The mapping reaches past the next boundary by at least one element, so n >= 1.
            int n = Math.min(count - done, (chunk.capacity() - offset) / size);
            ByteBuffer bytes = chunk.slice(offset, n * size).order(ByteOrder.LITTLE_ENDIAN);
            switch (type) {
                case F32 -> bytes.asFloatBuffer().get(dst, dstOffset + done, n);
                case BF16 -> Convert.bf16(bytes, dst, dstOffset + done, n, scratch);
                case F16 -> Convert.f16(bytes, dst, dstOffset + done, n, scratch);
                default -> throw new AssertionError(type);
            }
            done += n;
            pos += (long) n * size;
        }
    }

    @Override
    public String toString() {
        return path + " (" + tensors.size() + " tensors, " + data.size() + " data bytes)";
    }
}
