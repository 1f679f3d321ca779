package dev.podserve.backend.cuda;

import dev.podserve.backend.ComputeBackend;
import dev.podserve.model.ModelConfig;

/**
 * A backend presented to {@link LockstepDriver} as a plain {@code forward()}: a test's subclass calls
 * the device's other entry points inside it (forwardForSampling with its flags and draws) and
 * checks what comes back on the way. Everything else is the device's.
 */
abstract class CheckingBackend implements ComputeBackend {

    private final ComputeBackend device;

    CheckingBackend(ComputeBackend device) {
        this.device = device;
    }

    @Override
    public ModelConfig config() {
        return device.config();
    }

    @Override
    public int numKvBlocks() {
        return device.numKvBlocks();
    }

    @Override
    public int pageSize() {
        return device.pageSize();
    }

    @Override
    public String describe() {
        return device.describe();
    }
}
