package dev.podserve.model.safetensors;

import java.nio.ByteBuffer;
import java.nio.ShortBuffer;

/**
 * The 16-bit to fp32 inner loops: a bulk copy of a block of raw halves out of the mapping (a plain
 * memory copy on a little-endian machine), then a widening loop over the block simple enough for
 * the JIT to unroll and vectorise.
 */
final class Convert {

    private Convert() {
    }

    /** {@code src} holds exactly {@code n} little-endian bf16 values. */
    static void bf16(ByteBuffer src, float[] dst, int dstOffset, int n, short[] scratch) {
        ShortBuffer in = src.asShortBuffer();
        for (int done = 0; done < n; ) {
            int k = Math.min(scratch.length, n - done);
            in.get(scratch, 0, k);
            int base = dstOffset + done;
            for (int i = 0; i < k; i++) dst[base + i] = Float.intBitsToFloat(scratch[i] << 16);
            done += k;
        }
    }

    /** {@code src} holds exactly {@code n} little-endian IEEE binary16 values. */
    static void f16(ByteBuffer src, float[] dst, int dstOffset, int n, short[] scratch) {
        float[] table = HalfFloat.f16Table();
        ShortBuffer in = src.asShortBuffer();
        for (int done = 0; done < n; ) {
            int k = Math.min(scratch.length, n - done);
            in.get(scratch, 0, k);
            int base = dstOffset + done;
            for (int i = 0; i < k; i++) dst[base + i] = table[scratch[i] & 0xffff];
            done += k;
        }
    }
}
