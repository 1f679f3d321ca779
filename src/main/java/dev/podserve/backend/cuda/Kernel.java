package dev.podserve.backend.cuda;

import static dev.podserve.backend.cuda.CudaException.check;

import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUlaunchAttribute;
import org.bytedeco.cuda.cudart.CUlaunchConfig;
import org.bytedeco.cuda.global.cudart;

/** One entry point of the module; every podserve kernel takes a single struct by value. */
public final class Kernel {

    private final String name;
    private final CUfunc_st function;
    private int dynamicSmemAllowed = 48 * 1024;
    /** launchDependent's config and its one attribute, made on first use and refilled per launch. */
    private CUlaunchConfig config;
    private CUlaunchAttribute attribute;

    Kernel(String name, CUfunc_st function) {
        this.name = name;
        this.function = function;
    }

    public String name() {
        return name;
    }

    /** Raises the dynamic shared memory cap once, as kernels above the 48 KB default need. */
    synchronized void allowDynamicSmem(int bytes) {
        if (bytes <= dynamicSmemAllowed) return;
        check(cudart.cuFuncSetAttribute(function, cudart.CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, bytes),
                "cuFuncSetAttribute(" + name + ", MAX_DYNAMIC_SHARED_SIZE_BYTES=" + bytes + ")");
        dynamicSmemAllowed = bytes;
    }

    void launch(CudaContext ctx, int gridX, int gridY, int blockX, int smemBytes, ParamBlock params) {
        launch(ctx.stream(), gridX, gridY, blockX, smemBytes, params);
    }

    /**
     * On the context's stream with programmatic stream serialization where the device has it: the
     * kernel may start while the one ahead of it still runs, and waits on the device
     * (griddepcontrol.wait) before it touches what that one writes. Only for kernels written so
     * (ps_skinny_gemm, and the kernels of the decode chain that begin with ps::pdl_chain_start; see
     * podserve_common.cuh). Captured into a CUDA graph, the edge stays programmatic. After a kernel
     * that does not trigger early (cuBLAS's), it starts as that one's CTAs exit, before its writes are
     * known to be visible: the device-side wait is what orders them, whatever runs ahead.
     */
    void launchDependent(CudaContext ctx, int gridX, int gridY, int blockX, int smemBytes, ParamBlock params) {
        launchDependent(ctx, ctx.stream(), gridX, gridY, blockX, smemBytes, params);
    }

    /** As {@link #launchDependent(CudaContext, int, int, int, int, ParamBlock)}, on a given stream of the context. */
    synchronized void launchDependent(CudaContext ctx, org.bytedeco.cuda.cudart.CUstream_st stream, int gridX, int gridY,
                                      int blockX, int smemBytes, ParamBlock params) {
        if (!ctx.programmaticLaunch()) {
            launch(stream, gridX, gridY, blockX, smemBytes, params);
            return;
        }
        if (gridX <= 0 || gridY <= 0) return;
        allowDynamicSmem(smemBytes);
        if (config == null) {
            attribute = new CUlaunchAttribute();
            attribute.id(cudart.CU_LAUNCH_ATTRIBUTE_PROGRAMMATIC_STREAM_SERIALIZATION);
            attribute.value().programmaticStreamSerializationAllowed(1);
            config = new CUlaunchConfig();
            config.gridDimZ(1).blockDimY(1).blockDimZ(1).attrs(attribute).numAttrs(1);
        }
        config.gridDimX(gridX).gridDimY(gridY).blockDimX(blockX).sharedMemBytes(smemBytes).hStream(stream);
        check(cudart.cuLaunchKernelEx(config, function, params.kernelParams(), null),
                "cuLaunchKernelEx(" + name + ", grid " + gridX + "x" + gridY + ", block " + blockX + ", programmatic)");
    }

    /** On a given stream of the context (the parameter bytes are copied at the call: the block may be refilled at once). */
    void launch(org.bytedeco.cuda.cudart.CUstream_st stream, int gridX, int gridY, int blockX, int smemBytes, ParamBlock params) {
        if (gridX <= 0 || gridY <= 0) return;
        allowDynamicSmem(smemBytes);
        check(cudart.cuLaunchKernel(function, gridX, gridY, 1, blockX, 1, 1, smemBytes, stream, params.kernelParams(), null),
                "cuLaunchKernel(" + name + ", grid " + gridX + "x" + gridY + ", block " + blockX + ")");
    }
}
