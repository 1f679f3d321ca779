package dev.podserve.backend.cuda;

import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;

/**
 * Host memory for copies to and from the device: page-locked (cuMemAllocHost) where the driver
 * allows it, so the DMA engine reads and writes it directly instead of through the driver's own
 * bounce buffer; ordinary memory when pinning fails (a low memlock limit).
 */
final class PinnedHostMemory implements AutoCloseable {

    private final Pointer pinned;
    /** [bytes] host bytes, limit set to the whole. */
    final BytePointer bytes;

    PinnedHostMemory(long size) {
        Pointer p = new Pointer();
        if (cudart.cuMemAllocHost(p, size) == cudart.CUDA_SUCCESS && !p.isNull()) {
            this.pinned = p;
            this.bytes = new BytePointer(p).capacity(size);
        } else {
            this.pinned = null;
            this.bytes = new BytePointer(size);
        }
        bytes.limit(size);
    }

    boolean pinned() {
        return pinned != null;
    }

    @Override
    public void close() {
        if (pinned != null) {
            CudaException.check(cudart.cuMemFreeHost(pinned), "cuMemFreeHost");
        } else {
            bytes.close();
        }
    }
}
