package dev.podserve.backend.cuda;

import org.bytedeco.javacpp.BytePointer;

/**
 * Host-to-device and back through one reusable native staging buffer, converting fp32 weights to
 * bf16 on the way in. Large arrays go in pieces so the staging buffer stays small.
 */
final class DeviceCopies implements AutoCloseable {

    private static final int STAGE_BYTES = 32 << 20;

    private final CudaContext ctx;
    private final BytePointer stage = new BytePointer(STAGE_BYTES);

    DeviceCopies(CudaContext ctx) {
        this.ctx = ctx;
    }

    /** Writes {@code src[from .. from+count)} as bf16 to {@code dst}. */
    void bf16(long dst, float[] src, int from, int count) {
        int per = STAGE_BYTES / 2;
        for (int done = 0; done < count; done += per) {
            int n = Math.min(per, count - done);
            for (int i = 0; i < n; i++) stage.putShort(2L * i, Bf16.fromFloat(src[from + done + i]));
            ctx.upload(dst + 2L * done, stage, 2L * n);
            // The next piece overwrites the stage: pageable copies are staged by the driver, but be certain.
            ctx.synchronize();
        }
    }

    void bf16(long dst, float[] src) {
        bf16(dst, src, 0, src.length);
    }

    void floats(long dst, float[] src) {
        int per = STAGE_BYTES / 4;
        for (int done = 0; done < src.length; done += per) {
            int n = Math.min(per, src.length - done);
            for (int i = 0; i < n; i++) stage.putFloat(4L * i, src[done + i]);
            ctx.upload(dst + 4L * done, stage, 4L * n);
            ctx.synchronize();
        }
    }

    void ints(long dst, int[] src, int count) {
        if (4L * count > STAGE_BYTES) throw new IllegalArgumentException(count + " ints exceed the staging buffer");
        for (int i = 0; i < count; i++) stage.putInt(4L * i, src[i]);
        ctx.upload(dst, stage, 4L * count);
        ctx.synchronize();
    }

    /** {@code count} fp32 from {@code src} into {@code out[outOffset..]}, after the stream's work so far. */
    void readFloats(long src, float[] out, int outOffset, int count) {
        int per = STAGE_BYTES / 4;
        for (int done = 0; done < count; done += per) {
            int n = Math.min(per, count - done);
            ctx.download(stage, src + 4L * done, 4L * n);
            for (int i = 0; i < n; i++) out[outOffset + done + i] = stage.getFloat(4L * i);
        }
    }

    /** {@code count} bf16 values from {@code src}, widened to fp32. */
    float[] readBf16(long src, int count) {
        float[] out = new float[count];
        int per = STAGE_BYTES / 2;
        for (int done = 0; done < count; done += per) {
            int n = Math.min(per, count - done);
            ctx.download(stage, src + 2L * done, 2L * n);
            for (int i = 0; i < n; i++) out[done + i] = Bf16.toFloat(stage.getShort(2L * i));
        }
        return out;
    }

    int[] readInts(long src, int count) {
        int[] out = new int[count];
        ctx.download(stage, src, 4L * count);
        for (int i = 0; i < count; i++) out[i] = stage.getInt(4L * i);
        return out;
    }

    /** Fills {@code bytes} at {@code dst} with one byte value (tests poison outputs with 0xFF: bf16 NaN). */
    void fill(long dst, byte value, long bytes) {
        CudaException.check(org.bytedeco.cuda.global.cudart.cuMemsetD8(dst, value, bytes), "cuMemsetD8(" + bytes + " bytes)");
        ctx.synchronize();
    }

    @Override
    public void close() {
        stage.close();
    }
}
