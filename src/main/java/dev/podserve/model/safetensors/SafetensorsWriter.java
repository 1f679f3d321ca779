package dev.podserve.model.safetensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ArrayNode;
import tools.jackson.databind.node.ObjectNode;

/**
 * Writes named tensors to one safetensors file: fp32 arrays stored as F32, BF16 or F16 (rounded to
 * nearest even), or raw bytes of any dtype. The arrays are read only when {@link #write} runs.
 *
 * <p>The header is padded with spaces so the data section starts 8-byte aligned, as HuggingFace's
 * writer does; tensors follow in the order they were added, back to back.
 */
public final class SafetensorsWriter {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    /** Elements converted per write: bounds the staging buffer, not the tensor size. */
    private static final int BLOCK = 1 << 20;

    private interface Payload {
        void writeTo(FileChannel out, ByteBuffer staging) throws IOException;
    }

    private record Pending(String name, String dtype, long[] shape, long bytes, Payload payload) {
    }

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final List<Pending> tensors = new ArrayList<>();

    public SafetensorsWriter metadata(String key, String value) {
        metadata.put(key, value);
        return this;
    }

    /** All of {@code values}, which must hold exactly {@code product(shape)} elements. */
    public SafetensorsWriter add(String name, Dtype dtype, long[] shape, float[] values) {
        if (elements(shape) != values.length) {
            throw new IllegalArgumentException(name + ": shape " + Arrays.toString(shape) + " does not hold " + values.length + " values");
        }
        return add(name, dtype, shape, values, 0);
    }

    /** {@code product(shape)} elements of {@code values} from {@code offset}, row-major. */
    public SafetensorsWriter add(String name, Dtype dtype, long[] shape, float[] values, int offset) {
        if (!dtype.convertible()) throw new IllegalArgumentException(name + ": fp32 values are written as F32, BF16 or F16, not " + dtype);
        long n = elements(shape);
        if (offset < 0 || offset + n > values.length) {
            throw new IllegalArgumentException(name + ": " + n + " elements from " + offset + " overrun an array of " + values.length);
        }
        return put(name, dtype.name(), shape, n * dtype.bytes(), (out, staging) -> writeFloats(out, staging, dtype, values, offset, (int) n));
    }

    /** Bytes written as they are, under any dtype name (tests use this for types podserve cannot load). */
    public SafetensorsWriter addRaw(String name, String dtype, long[] shape, byte[] data) {
        Dtype known = Dtype.byName(dtype);
        if (known != null && elements(shape) * known.bytes() != data.length) {
            throw new IllegalArgumentException(name + ": " + dtype + " " + Arrays.toString(shape) + " is not " + data.length + " bytes");
        }
        byte[] copy = data.clone();
        return put(name, dtype, shape, copy.length, (out, staging) -> writeAll(out, ByteBuffer.wrap(copy)));
    }

    private SafetensorsWriter put(String name, String dtype, long[] shape, long bytes, Payload payload) {
        if (SafetensorsHeader.METADATA_KEY.equals(name)) throw new IllegalArgumentException(name + " is reserved");
        for (Pending p : tensors) {
            if (p.name.equals(name)) throw new IllegalArgumentException("tensor " + name + " added twice");
        }
        tensors.add(new Pending(name, dtype, shape.clone(), bytes, payload));
        return this;
    }

    /** Data bytes added so far (the file adds the header). */
    public long dataBytes() {
        long n = 0;
        for (Pending p : tensors) n += p.bytes;
        return n;
    }

    /** Writes the file, replacing one that exists; returns its size in bytes. */
    public long write(Path file) throws IOException {
        byte[] header = header();
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.TRUNCATE_EXISTING,
                StandardOpenOption.WRITE)) {
            writeAll(out, ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(0, header.length));
            writeAll(out, ByteBuffer.wrap(header));
            ByteBuffer staging = ByteBuffer.allocateDirect(BLOCK * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
            for (Pending p : tensors) p.payload.writeTo(out, staging);
            return out.size();
        }
    }

    private byte[] header() {
        ObjectNode root = JSON.createObjectNode();
        if (!metadata.isEmpty()) {
            ObjectNode meta = root.putObject(SafetensorsHeader.METADATA_KEY);
            metadata.forEach(meta::put);
        }
        long offset = 0;
        for (Pending p : tensors) {
            ObjectNode t = root.putObject(p.name);
            t.put("dtype", p.dtype);
            ArrayNode shape = t.putArray("shape");
            for (long d : p.shape) shape.add(d);
            t.putArray("data_offsets").add(offset).add(offset + p.bytes);
            offset += p.bytes;
        }
        byte[] json = JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
        int padded = (json.length + 7) / 8 * 8;
        byte[] header = Arrays.copyOf(json, padded);
        Arrays.fill(header, json.length, padded, (byte) ' ');
        return header;
    }

    private static void writeFloats(FileChannel out, ByteBuffer staging, Dtype dtype, float[] values, int offset, int n)
            throws IOException {
        for (int done = 0; done < n; ) {
            int k = Math.min(BLOCK, n - done);
            staging.clear();
            int from = offset + done;
            switch (dtype) {
                case F32 -> staging.asFloatBuffer().put(values, from, k);
                case BF16 -> {
                    for (int i = 0; i < k; i++) staging.putShort(2 * i, HalfFloat.floatToBf16(values[from + i]));
                }
                case F16 -> {
                    for (int i = 0; i < k; i++) staging.putShort(2 * i, HalfFloat.floatToF16(values[from + i]));
                }
                default -> throw new AssertionError(dtype);
            }
            staging.limit(k * dtype.bytes());
            writeAll(out, staging);
            done += k;
        }
    }

    private static void writeAll(FileChannel out, ByteBuffer bytes) throws IOException {
        while (bytes.hasRemaining()) out.write(bytes);
    }

    private static long elements(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        return n;
    }
}
