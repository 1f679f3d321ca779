package dev.podserve.backend.cuda;

import static dev.podserve.backend.cuda.CudaException.check;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;

import org.bytedeco.cuda.cudart.CUfunc_st;
import org.bytedeco.cuda.cudart.CUmod_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;

/**
 * The kernels of cuda-kernels/, one fatbin that the build packs into the jar as
 * {@value #RESOURCE} (cuda-kernels/build.sh), loaded into the current context; functions are
 * looked up once by their extern "C" name and cached.
 */
public final class KernelModule implements AutoCloseable {

    public static final String RESOURCE = "cuda/podserve.fatbin";

    private final CUmod_st module = new CUmod_st();
    private final Map<String, Kernel> kernels = new HashMap<>();

    private KernelModule(byte[] image) {
        try (BytePointer data = new BytePointer(image)) {
            check(cudart.cuModuleLoadData(module, data), "cuModuleLoadData(" + RESOURCE + ", " + image.length + " bytes)");
        }
    }

    /** Whether the jar (or class path) carries the fatbin; touches no native code. */
    public static boolean fatbinPresent() {
        return KernelModule.class.getClassLoader().getResource(RESOURCE) != null;
    }

    /** Loads the packaged fatbin into the context current on this thread. */
    public static KernelModule load() {
        try (InputStream in = KernelModule.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new CudaException("the class path holds no " + RESOURCE + ": the jar was built without nvcc"
                        + " and no prebuilt fatbin (cuda-kernels/build.sh)");
            }
            return new KernelModule(in.readAllBytes());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
    }

    public synchronized Kernel function(String name) {
        return kernels.computeIfAbsent(name, n -> {
            CUfunc_st f = new CUfunc_st();
            check(cudart.cuModuleGetFunction(f, module, n), "cuModuleGetFunction(" + n + ")");
            return new Kernel(n, f);
        });
    }

    @Override
    public void close() {
        check(cudart.cuModuleUnload(module), "cuModuleUnload");
    }
}
