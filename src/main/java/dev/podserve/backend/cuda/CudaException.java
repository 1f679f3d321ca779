package dev.podserve.backend.cuda;

import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;

/** A failed CUDA driver or cuBLAS call, named with the error the library reports. */
public final class CudaException extends RuntimeException {

    public CudaException(String message) {
        super(message);
    }

    /** Throws unless {@code result} is CUDA_SUCCESS; {@code call} names the call for the message. */
    static void check(int result, String call) {
        if (result != 0) throw new CudaException(call + " failed: " + driverError(result));
    }

    static void checkBlas(int status, String call) {
        if (status != 0) {
            BytePointer s = cublas.cublasGetStatusString(status);
            throw new CudaException(call + " failed: " + (s == null ? "cuBLAS status " + status : s.getString()) + " (" + status + ")");
        }
    }

    static String driverError(int result) {
        // The driver hands back pointers to its own static strings: read, never freed.
        try (PointerPointer<BytePointer> name = new PointerPointer<>(1); PointerPointer<BytePointer> text = new PointerPointer<>(1)) {
            String n = cudart.cuGetErrorName(result, name) == 0 ? name.get(BytePointer.class, 0).getString() : "CUDA error";
            String t = cudart.cuGetErrorString(result, text) == 0 ? text.get(BytePointer.class, 0).getString() : "unknown";
            return n + " (" + result + "): " + t;
        }
    }
}
