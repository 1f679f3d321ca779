package dev.podserve.backend.cpu;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Picks the kernels for this JVM. The Vector API lives in an incubator module that only exists when
 * the JVM was started with {@code --add-modules jdk.incubator.vector}; {@link VectorKernels} is loaded
 * by name, so without the module it is never linked and the plain-Java kernels run instead.
 */
final class KernelSelector {

    /** System property that, set to {@code false}, forces the plain-Java kernels. */
    static final String VECTOR_PROPERTY = "podserve.cpu.vector";

    private static final Logger log = LoggerFactory.getLogger(KernelSelector.class);

    private KernelSelector() {
    }

    static boolean vectorModulePresent() {
        return ModuleLayer.boot().findModule("jdk.incubator.vector").isPresent();
    }

    static CpuKernels best() {
        if (!Boolean.parseBoolean(System.getProperty(VECTOR_PROPERTY, "true"))) return new ScalarKernels();
        if (!vectorModulePresent()) {
            log.warn("jdk.incubator.vector is not in this JVM (launch with --add-modules jdk.incubator.vector);"
                    + " the CPU backend runs plain-Java kernels, several times slower");
            return new ScalarKernels();
        }
        try {
            return (CpuKernels) Class.forName("dev.podserve.backend.cpu.VectorKernels").getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException | LinkageError e) {
            log.warn("Vector API kernels could not be loaded ({}); the CPU backend runs plain-Java kernels", e.toString());
            return new ScalarKernels();
        }
    }

    static CpuKernels scalar() {
        return new ScalarKernels();
    }
}
