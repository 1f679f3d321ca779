package dev.podserve.model.safetensors;

/**
 * The element types safetensors names in a header. Every one is listed with its size so that any
 * tensor's byte range can be checked against its shape; only {@link #convertible()} ones can become
 * fp32 weights.
 */
public enum Dtype {
    BOOL(1), U8(1), I8(1), F8_E4M3(1), F8_E5M2(1), F8_E8M0(1),
    I16(2), U16(2), F16(2), BF16(2),
    I32(4), U32(4), F32(4),
    I64(8), U64(8), F64(8);

    private final int bytes;

    Dtype(int bytes) {
        this.bytes = bytes;
    }

    public int bytes() {
        return bytes;
    }

    /** Whether the loader turns this type into fp32 weights. */
    public boolean convertible() {
        return this == BF16 || this == F16 || this == F32;
    }

    /** The type a header names, or null for one this build does not know (newer sub-byte formats). */
    public static Dtype byName(String name) {
        for (Dtype d : values()) {
            if (d.name().equals(name)) return d;
        }
        return null;
    }
}
