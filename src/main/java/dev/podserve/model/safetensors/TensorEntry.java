package dev.podserve.model.safetensors;

import java.util.Arrays;

/**
 * One tensor of a safetensors header, already checked: {@code begin..end} lies inside the data
 * section and holds exactly {@code product(shape)} elements of {@code dtype} (when the dtype is known).
 *
 * @param dtype the header's name for the element type, kept as written so that an unknown one can be reported
 * @param begin first byte, relative to the start of the data section (the byte after the header)
 * @param end   one past the last byte, same origin
 */
public record TensorEntry(String name, String dtype, long[] shape, long begin, long end) {

    public TensorEntry {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    /** The element type, or null when this build does not know the header's name for it. */
    public Dtype type() {
        return Dtype.byName(dtype);
    }

    public long elements() {
        long n = 1;
        for (long d : shape) n *= d;
        return n;
    }

    public long bytes() {
        return end - begin;
    }

    public boolean hasShape(long... expected) {
        return Arrays.equals(shape, expected);
    }

    public String shapeText() {
        return Arrays.toString(shape);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorEntry t && name.equals(t.name) && dtype.equals(t.dtype) && Arrays.equals(shape, t.shape)
                && begin == t.begin && end == t.end;
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + dtype + shapeText() + " @" + begin + ".." + end;
    }
}
