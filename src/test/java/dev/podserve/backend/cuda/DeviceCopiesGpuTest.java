package dev.podserve.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import java.util.Random;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Copies through the staging buffer go in pieces when they are larger than it: a step's page list
 * can be (max-num-seqs x the pages of a whole context at page size 1 passes 8M ints), and was
 * refused whole. Round trips at sizes just under, at and over whole pieces, against the host arrays.
 */
@Tag("gpu")
class DeviceCopiesGpuTest {

    /** Ints the 32 MB stage holds in one piece. */
    private static final int PIECE = (32 << 20) / 4;

    @Test
    void intsAndFloatsLargerThanTheStageComeBackWhole() {
        Gpu.require();
        Random rnd = new Random(42);
        int[] counts = {1, PIECE - 1, PIECE, PIECE + 1, 2 * PIECE + 12_345};
        long bytes = 4L * counts[counts.length - 1];
        try (DeviceArena arena = new DeviceArena(DeviceArena.aligned(bytes) + (1 << 20));
             DeviceCopies copies = new DeviceCopies(Gpu.ctx())) {
            long dst = arena.carve("round trip", bytes).address();
            for (int count : counts) {
                int[] ints = rnd.ints(count).toArray();
                copies.ints(dst, ints, count);
                assertArrayEquals(ints, copies.readInts(dst, count), "ints, " + count);
                float[] floats = new float[count];
                for (int i = 0; i < count; i++) floats[i] = rnd.nextFloat();
                copies.floats(dst, floats);
                float[] back = new float[count];
                copies.readFloats(dst, back, 0, count);
                assertArrayEquals(floats, back, "floats, " + count);
            }
            // bf16 pieces hold twice the elements; the values are bf16-exact, so they come back as they went.
            int count = 2 * PIECE + 3;
            float[] halves = new float[count];
            for (int i = 0; i < count; i++) halves[i] = Bf16.toFloat(Bf16.fromFloat(rnd.nextFloat() * 4 - 2));
            copies.bf16(dst, halves);
            assertArrayEquals(halves, copies.readBf16(dst, count), "bf16, " + count);
        }
    }
}
