package dev.podserve.backend.cuda;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.ShortBuffer;
import java.util.stream.IntStream;

import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;

/**
 * Host-to-device and back through one reusable staging buffer, converting fp32 weights to bf16 on
 * the way in. Large arrays go in pieces so the staging buffer stays small.
 *
 * <p>The stage is {@link PinnedHostMemory}. Java touches it only through a direct
 * {@link ByteBuffer} view: bulk {@code get}/{@code put} and indexed access there compile to plain
 * memory moves, where JavaCPP's {@code BytePointer.getFloat(i)} is one JNI call per element (about
 * 15 ns: 2 ms for one 128K-vocabulary logits row, and minutes for an 8B model's weights).
 */
final class DeviceCopies implements AutoCloseable {

    private static final int STAGE_BYTES = 32 << 20;
    /** Elements converted per parallel task when widening or narrowing large pieces. */
    private static final int CONVERT_BLOCK = 1 << 16;

    private final CudaContext ctx;
    private final PinnedHostMemory memory;
    /** [STAGE_BYTES] host bytes, pinned where the driver allows. */
    private final BytePointer stage;
    /** The stage as a native-order direct buffer; absolute indexing only, so views never move. */
    private final ByteBuffer buf;

    DeviceCopies(CudaContext ctx) {
        this.ctx = ctx;
        this.memory = new PinnedHostMemory(STAGE_BYTES);
        this.stage = memory.bytes;
        this.buf = stage.asByteBuffer().order(ByteOrder.nativeOrder());
    }

    boolean pinned() {
        return memory.pinned();
    }

    /** Writes {@code src[from .. from+count)} as bf16 to {@code dst}. */
    void bf16(long dst, float[] src, int from, int count) {
        ShortBuffer shorts = buf.asShortBuffer();
        upload(dst, count, 2, (done, n) -> {
            int base = from + done;
            // Distinct indices of one direct buffer: the blocks may be filled concurrently.
            IntStream.range(0, (n + CONVERT_BLOCK - 1) / CONVERT_BLOCK).parallel().forEach(blk -> {
                int end = Math.min(n, (blk + 1) * CONVERT_BLOCK);
                for (int i = blk * CONVERT_BLOCK; i < end; i++) shorts.put(i, Bf16.fromFloat(src[base + i]));
            });
        });
    }

    void bf16(long dst, float[] src) {
        bf16(dst, src, 0, src.length);
    }

    void floats(long dst, float[] src) {
        upload(dst, src.length, 4, (done, n) -> buf.asFloatBuffer().put(src, done, n));
    }

    /** {@code src[0 .. count)} to {@code dst}, in pieces when it is larger than the stage (a step's page list can be). */
    void ints(long dst, int[] src, int count) {
        upload(dst, count, 4, (done, n) -> buf.asIntBuffer().put(src, done, n));
    }

    /** Fills the stage's start with elements {@code [done, done + n)} of what is being uploaded. */
    private interface Piece {
        void fill(int done, int n);
    }

    /** {@code count} elements of {@code elementBytes} to {@code dst}, as many per copy as the stage holds. */
    private void upload(long dst, int count, int elementBytes, Piece piece) {
        int per = STAGE_BYTES / elementBytes;
        for (int done = 0; done < count; done += per) {
            int n = Math.min(per, count - done);
            piece.fill(done, n);
            ctx.upload(dst + (long) elementBytes * done, stage, (long) elementBytes * n);
            // The next piece overwrites the stage while the copy may still read it.
            ctx.synchronize();
        }
    }

    /**
     * Starts copying {@code count} ints to {@code dst} and returns without waiting: the caller must
     * synchronize the stream (a later download does) before the next use of this object.
     */
    void intsAsync(long dst, int[] src, int count) {
        if (4L * count > STAGE_BYTES) throw new IllegalArgumentException(count + " ints exceed the staging buffer");
        buf.asIntBuffer().put(src, 0, count);
        ctx.upload(dst, stage, 4L * count);
    }

    /** {@code count} fp32 from {@code src} into {@code out[outOffset..]}, after the stream's work so far. */
    void readFloats(long src, float[] out, int outOffset, int count) {
        int per = STAGE_BYTES / 4;
        for (int done = 0; done < count; done += per) {
            int n = Math.min(per, count - done);
            ctx.download(stage, src + 4L * done, 4L * n);
            buf.asFloatBuffer().get(out, outOffset + done, n);
        }
    }

    /**
     * Rows of fp32 {@code [rows][cols]} at {@code src} (rows contiguous) into {@code out[r]}: as few
     * copies as the stage allows, so a step's logits come back in one transfer where they fit.
     */
    void readRows(long src, float[][] out, int rows, int cols) {
        if (4L * cols > STAGE_BYTES) {
            for (int r = 0; r < rows; r++) readFloats(src + 4L * r * cols, out[r], 0, cols);
            return;
        }
        int perCopy = STAGE_BYTES / (4 * cols);
        for (int r0 = 0; r0 < rows; r0 += perCopy) {
            int n = Math.min(perCopy, rows - r0);
            int first = r0;
            ctx.download(stage, src + 4L * r0 * cols, 4L * n * cols);
            // Many rows (a big decode batch): several threads move them out of the stage at once.
            IntStream.range(0, n).parallel().forEach(r -> buf.asFloatBuffer().get(r * cols, out[first + r], 0, cols));
        }
    }

    /** {@code count} bf16 values from {@code src}, widened to fp32. */
    float[] readBf16(long src, int count) {
        float[] out = new float[count];
        int per = STAGE_BYTES / 2;
        ShortBuffer shorts = buf.asShortBuffer();
        for (int done = 0; done < count; done += per) {
            int n = Math.min(per, count - done);
            ctx.download(stage, src + 2L * done, 2L * n);
            for (int i = 0; i < n; i++) out[done + i] = Bf16.toFloat(shorts.get(i));
        }
        return out;
    }

    /** {@code count} raw bf16 patterns from {@code src}. */
    short[] readBf16Bits(long src, int count) {
        short[] out = new short[count];
        int per = STAGE_BYTES / 2;
        for (int done = 0; done < count; done += per) {
            int n = Math.min(per, count - done);
            ctx.download(stage, src + 2L * done, 2L * n);
            buf.asShortBuffer().get(out, done, n);
        }
        return out;
    }

    int[] readInts(long src, int count) {
        int[] out = new int[count];
        int per = STAGE_BYTES / 4;
        for (int done = 0; done < count; done += per) {
            int n = Math.min(per, count - done);
            ctx.download(stage, src + 4L * done, 4L * n);
            buf.asIntBuffer().get(out, done, n);
        }
        return out;
    }

    /** Fills {@code bytes} at {@code dst} with one byte value (tests poison outputs with 0xFF: bf16 NaN). */
    void fill(long dst, byte value, long bytes) {
        CudaException.check(cudart.cuMemsetD8(dst, value, bytes), "cuMemsetD8(" + bytes + " bytes)");
        ctx.synchronize();
    }

    @Override
    public void close() {
        memory.close();
    }
}
