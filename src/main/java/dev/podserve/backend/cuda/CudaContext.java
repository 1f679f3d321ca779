package dev.podserve.backend.cuda;

import static dev.podserve.backend.cuda.CudaException.check;

import java.nio.file.Files;
import java.nio.file.Path;

import org.bytedeco.cuda.cudart.CUctx_st;
import org.bytedeco.cuda.cudart.CUevent_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.SizeTPointer;

/**
 * One device, its primary context (shared with any other driver-API user in the process) made
 * current on the constructing thread, and the stream every podserve launch and copy goes to.
 * The context must be current on the thread that launches: {@link #makeCurrent()} for others.
 */
public final class CudaContext implements AutoCloseable {

    private final int device;
    private final CUctx_st ctx = new CUctx_st();
    private final CUstream_st stream = new CUstream_st();
    /** A second stream, for the decode attention of a hybrid step in {@code streams} mode. */
    private final CUstream_st sideStream = new CUstream_st();
    /** Fork (main to side) and join (side to main) points of that second stream. */
    private final CUevent_st fork = new CUevent_st();
    private final CUevent_st join = new CUevent_st();
    private final String name;
    private final int smCount;
    private final long totalMemory;
    /** Major compute capability (8 Ampere, 9 Hopper, ...). */
    private final int computeMajor;
    /**
     * Programmatic dependent launch: compute capability 9.0 or later and a driver of CUDA 12.3 or
     * later (programmatic edges in captured graphs), unless -Dpodserve.cuda.pdl=false.
     */
    private final boolean programmaticLaunch;
    private boolean closed;

    private CudaContext(int ordinal) {
        check(cudart.cuInit(0), "cuInit");
        int[] dev = new int[1];
        check(cudart.cuDeviceGet(dev, ordinal), "cuDeviceGet(" + ordinal + ")");
        this.device = dev[0];
        check(cudart.cuDevicePrimaryCtxRetain(ctx, device), "cuDevicePrimaryCtxRetain");
        try {
            check(cudart.cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
            check(cudart.cuStreamCreate(stream, 0), "cuStreamCreate");
            check(cudart.cuStreamCreate(sideStream, cudart.CU_STREAM_NON_BLOCKING), "cuStreamCreate(side)");
            check(cudart.cuEventCreate(fork, cudart.CU_EVENT_DISABLE_TIMING), "cuEventCreate(fork)");
            check(cudart.cuEventCreate(join, cudart.CU_EVENT_DISABLE_TIMING), "cuEventCreate(join)");
            byte[] buf = new byte[256];
            check(cudart.cuDeviceGetName(buf, buf.length, device), "cuDeviceGetName");
            int len = 0;
            while (len < buf.length && buf[len] != 0) len++;
            this.name = new String(buf, 0, len, java.nio.charset.StandardCharsets.US_ASCII);
            int[] sms = new int[1];
            check(cudart.cuDeviceGetAttribute(sms, cudart.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, device),
                    "cuDeviceGetAttribute(MULTIPROCESSOR_COUNT)");
            this.smCount = sms[0];
            int[] major = new int[1];
            check(cudart.cuDeviceGetAttribute(major, cudart.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, device),
                    "cuDeviceGetAttribute(COMPUTE_CAPABILITY_MAJOR)");
            this.computeMajor = major[0];
            int[] driver = new int[1];
            check(cudart.cuDriverGetVersion(driver), "cuDriverGetVersion");
            this.programmaticLaunch = major[0] >= 9 && driver[0] >= 12030
                    && Boolean.parseBoolean(System.getProperty("podserve.cuda.pdl", "true"));
            try (SizeTPointer total = new SizeTPointer(1)) {
                check(cudart.cuDeviceTotalMem(total, device), "cuDeviceTotalMem");
                this.totalMemory = total.get();
            }
        } catch (RuntimeException | Error e) {
            // A context that fails half-way must not keep the device's primary context (and its memory)
            // retained for the life of the process: the server may go on without the GPU.
            releaseAfterFailure(e);
            throw e;
        }
    }

    private void releaseAfterFailure(Throwable failure) {
        Runnable[] undo = {
                () -> { if (!join.isNull()) cudart.cuEventDestroy(join); },
                () -> { if (!fork.isNull()) cudart.cuEventDestroy(fork); },
                () -> { if (!sideStream.isNull()) cudart.cuStreamDestroy(sideStream); },
                () -> { if (!stream.isNull()) cudart.cuStreamDestroy(stream); },
                () -> cudart.cuDevicePrimaryCtxRelease(device)};
        for (Runnable step : undo) {
            try {
                step.run();
            } catch (RuntimeException | Error e) {
                failure.addSuppressed(e);
            }
        }
    }

    public static CudaContext open(int ordinal) {
        return new CudaContext(ordinal);
    }

    /**
     * Whether this machine looks like it has an NVIDIA driver, decided without loading any native
     * library (so a CPU-only machine never touches JavaCPP).
     */
    public static boolean driverPresent() {
        return Files.exists(Path.of("/proc/driver/nvidia/version")) || Files.exists(Path.of("/dev/nvidia0"));
    }

    /** Devices the driver sees, 0 where the driver or the JavaCPP natives cannot be loaded. */
    public static int deviceCount() {
        if (!driverPresent()) return 0;
        try {
            if (cudart.cuInit(0) != 0) return 0;
            int[] n = new int[1];
            return cudart.cuDeviceGetCount(n) == 0 ? n[0] : 0;
        } catch (LinkageError e) {
            return 0;
        }
    }

    public void makeCurrent() {
        check(cudart.cuCtxSetCurrent(ctx), "cuCtxSetCurrent");
    }

    public String name() {
        return name;
    }

    public int smCount() {
        return smCount;
    }

    public int computeMajor() {
        return computeMajor;
    }

    /**
     * Whether kernels that wait for their predecessors on the device ({@link Kernel#launchDependent})
     * are launched with programmatic stream serialization, so they start before the kernel ahead of
     * them ends. The system property {@code podserve.cuda.pdl=false} turns it off, for comparison.
     */
    public boolean programmaticLaunch() {
        return programmaticLaunch;
    }

    public long totalMemory() {
        return totalMemory;
    }

    public long freeMemory() {
        try (SizeTPointer free = new SizeTPointer(1); SizeTPointer total = new SizeTPointer(1)) {
            check(cudart.cuMemGetInfo(free, total), "cuMemGetInfo");
            return free.get();
        }
    }

    CUstream_st stream() {
        return stream;
    }

    CUstream_st sideStream() {
        return sideStream;
    }

    /** Makes the side stream wait for everything enqueued on the main stream so far. */
    void forkSide() {
        check(cudart.cuEventRecord(fork, stream), "cuEventRecord(fork)");
        check(cudart.cuStreamWaitEvent(sideStream, fork, 0), "cuStreamWaitEvent(side, fork)");
    }

    /** Makes the main stream wait for everything enqueued on the side stream so far. */
    void joinSide() {
        check(cudart.cuEventRecord(join, sideStream), "cuEventRecord(join)");
        check(cudart.cuStreamWaitEvent(stream, join, 0), "cuStreamWaitEvent(main, join)");
    }

    public void synchronize() {
        check(cudart.cuStreamSynchronize(stream), "cuStreamSynchronize");
    }

    /** Host to device on the stream; the host buffer may be reused as soon as this returns (pageable memory is staged). */
    void upload(long dst, BytePointer src, long bytes) {
        check(cudart.cuMemcpyHtoDAsync(dst, src, bytes, stream), "cuMemcpyHtoDAsync(" + bytes + " bytes)");
    }

    /** Device to host, waiting for the stream so the data are there when this returns. */
    void download(BytePointer dst, long src, long bytes) {
        check(cudart.cuMemcpyDtoHAsync(dst, src, bytes, stream), "cuMemcpyDtoHAsync(" + bytes + " bytes)");
        synchronize();
    }

    /** A timing event (destroy with {@link #destroyEvent}). */
    CUevent_st newEvent() {
        CUevent_st e = new CUevent_st();
        check(cudart.cuEventCreate(e, cudart.CU_EVENT_DEFAULT), "cuEventCreate");
        return e;
    }

    void record(CUevent_st e) {
        check(cudart.cuEventRecord(e, stream), "cuEventRecord");
    }

    /** Milliseconds between two recorded events, both of which the stream has passed. */
    float elapsedMillis(CUevent_st from, CUevent_st to) {
        float[] ms = new float[1];
        check(cudart.cuEventElapsedTime(ms, from, to), "cuEventElapsedTime");
        return ms[0];
    }

    void destroyEvent(CUevent_st e) {
        check(cudart.cuEventDestroy(e), "cuEventDestroy");
    }

    public String describe() {
        return String.format("%s, %d SMs, %.1f GiB", name, smCount, totalMemory / (double) (1L << 30));
    }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        check(cudart.cuEventDestroy(fork), "cuEventDestroy(fork)");
        check(cudart.cuEventDestroy(join), "cuEventDestroy(join)");
        check(cudart.cuStreamDestroy(sideStream), "cuStreamDestroy(side)");
        check(cudart.cuStreamDestroy(stream), "cuStreamDestroy");
        check(cudart.cuDevicePrimaryCtxRelease(device), "cuDevicePrimaryCtxRelease");
    }
}
