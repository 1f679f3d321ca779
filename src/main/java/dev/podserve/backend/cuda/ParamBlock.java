package dev.podserve.backend.cuda;

import java.util.BitSet;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.PointerPointer;

/**
 * One kernel argument struct packed by value into native memory at the offsets of its
 * {@link StructLayout}, plus the one-entry {@code kernelParams} array cuLaunchKernel reads it
 * through. Every field must be set since the last {@link #clear()} before a launch, so a field
 * forgotten by a launcher fails loudly instead of passing stale bytes. Not thread-safe: one per
 * launcher call site.
 */
public final class ParamBlock implements AutoCloseable {

    private final StructLayout layout;
    private final BytePointer bytes;
    private final PointerPointer<BytePointer> kernelParams;
    private final BitSet set = new BitSet();

    public ParamBlock(StructLayout layout) {
        this.layout = layout;
        this.bytes = new BytePointer(layout.size());
        this.kernelParams = new PointerPointer<>(1);
        kernelParams.put(0, bytes);
        clear();
    }

    public ParamBlock clear() {
        bytes.fill(0);
        set.clear();
        return this;
    }

    private StructLayout.Field field(String name, StructLayout.Kind kind) {
        StructLayout.Field f = layout.field(name);
        if (f.kind() != kind) throw new IllegalArgumentException(layout.name() + "." + name + " is " + f.kind() + ", not " + kind);
        set.set(f.index());
        return f;
    }

    /** A device address (0 for NULL). */
    public ParamBlock ptr(String name, long address) {
        bytes.putLong(field(name, StructLayout.Kind.PTR).offset(), address);
        return this;
    }

    public ParamBlock i64(String name, long value) {
        bytes.putLong(field(name, StructLayout.Kind.I64).offset(), value);
        return this;
    }

    public ParamBlock i32(String name, int value) {
        bytes.putInt(field(name, StructLayout.Kind.I32).offset(), value);
        return this;
    }

    public ParamBlock f32(String name, float value) {
        bytes.putFloat(field(name, StructLayout.Kind.F32).offset(), value);
        return this;
    }

    /** The raw bytes, for tests that compare them with a C compiler's packing. */
    public byte[] toArray() {
        byte[] out = new byte[layout.size()];
        bytes.get(out);
        return out;
    }

    PointerPointer<BytePointer> kernelParams() {
        int n = layout.fieldCount();
        if (set.cardinality() != n) {
            StringBuilder missing = new StringBuilder();
            for (int i = set.nextClearBit(0); i < n; i = set.nextClearBit(i + 1)) missing.append(' ').append(layout.fields().get(i).name());
            throw new IllegalStateException(layout.name() + " launched with unset fields:" + missing);
        }
        return kernelParams;
    }

    @Override
    public void close() {
        kernelParams.close();
        bytes.close();
    }
}
