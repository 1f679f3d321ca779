package dev.podserve.backend.cuda;

import static dev.podserve.backend.cuda.CudaException.check;

import java.util.ArrayList;
import java.util.List;

import org.bytedeco.cuda.global.cudart;

/**
 * One cuMemAlloc carved into named regions (weights, KV pages, activations, workspace), each
 * starting on a {@value #ALIGN}-byte boundary so every region meets the kernels' 16-byte vector and
 * cuBLAS's alignment wishes. Regions live as long as the arena; nothing is freed piecemeal.
 */
public final class DeviceArena implements AutoCloseable {

    public static final int ALIGN = 256;

    /** A carved region: {@code bytes} from device address {@code address}. */
    public record Region(String name, long address, long bytes) {
        /** The address {@code elementOffset} elements of {@code elementBytes} in. */
        public long at(long elementOffset, int elementBytes) {
            return address + elementOffset * elementBytes;
        }
    }

    private final long base;
    private final long capacity;
    private long used;
    private final List<Region> regions = new ArrayList<>();

    public DeviceArena(long capacity) {
        long[] ptr = new long[1];
        check(cudart.cuMemAlloc(ptr, capacity), "cuMemAlloc(" + capacity + " bytes)");
        this.base = ptr[0];
        this.capacity = capacity;
    }

    public static long aligned(long bytes) {
        return (bytes + ALIGN - 1) / ALIGN * ALIGN;
    }

    public Region carve(String name, long bytes) {
        long size = aligned(Math.max(bytes, 1));
        if (used + size > capacity) {
            throw new CudaException("device arena full: region " + name + " needs " + size + " bytes, " + (capacity - used)
                    + " of " + capacity + " left");
        }
        Region r = new Region(name, base + used, bytes);
        used += size;
        regions.add(r);
        return r;
    }

    public long capacity() {
        return capacity;
    }

    public long used() {
        return used;
    }

    public List<Region> regions() {
        return List.copyOf(regions);
    }

    @Override
    public void close() {
        check(cudart.cuMemFree(base), "cuMemFree");
    }
}
