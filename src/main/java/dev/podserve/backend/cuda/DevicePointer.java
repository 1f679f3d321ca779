package dev.podserve.backend.cuda;

import org.bytedeco.javacpp.Pointer;

/**
 * A raw device address dressed as a JavaCPP {@link Pointer}, for the cuBLAS entry points that take
 * {@code void*}. Owns nothing: the memory belongs to the {@link DeviceArena}.
 */
final class DevicePointer extends Pointer {

    DevicePointer(long address) {
        this.address = address;
    }
}
