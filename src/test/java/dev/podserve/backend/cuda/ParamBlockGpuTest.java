package dev.podserve.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * The packed bytes of a ParamBlock at the offsets StructLayoutTest checked against gcc, and the
 * refusal to launch with a field unset. Tagged gpu because it loads JavaCPP's native library.
 */
@Tag("gpu")
class ParamBlockGpuTest {

    @Test
    void packsEveryFieldLittleEndianAtItsOffset() {
        Gpu.require();
        try (ParamBlock p = new ParamBlock(ParamLayouts.ADD_RMSNORM)) {
            p.ptr("x", 0x1122334455667788L).ptr("residual", 2).ptr("weight", 3).ptr("out", 4).i64("xStride", -5)
                    .i64("residualStride", 6).i64("outStride", 7).i32("numTokens", 8).i32("hidden", -9).f32("eps", 1e-5f);
            ByteBuffer b = ByteBuffer.wrap(p.toArray()).order(ByteOrder.LITTLE_ENDIAN);
            assertEquals(72, b.capacity());
            assertEquals(0x1122334455667788L, b.getLong(0));
            assertEquals(4, b.getLong(24));
            assertEquals(-5, b.getLong(32));
            assertEquals(7, b.getLong(48));
            assertEquals(8, b.getInt(56));
            assertEquals(-9, b.getInt(60));
            assertEquals(1e-5f, b.getFloat(64));
            p.kernelParams();
            p.clear().ptr("x", 1);
            assertThrows(IllegalStateException.class, p::kernelParams);
            assertThrows(IllegalArgumentException.class, () -> p.i32("eps", 1));
        }
    }
}
