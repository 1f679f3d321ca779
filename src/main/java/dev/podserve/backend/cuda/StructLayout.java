package dev.podserve.backend.cuda;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The byte layout of one C struct of plain fields under x86-64 / LP64 rules: each field at the next
 * multiple of its own size, the struct padded to a multiple of its widest field. Pure Java, so a
 * plain unit test can compare it with what gcc computes for the headers.
 */
public final class StructLayout {

    /** The C field types the kernel param structs use, with their size (= alignment on x86-64). */
    public enum Kind {
        PTR(8), I64(8), I32(4), F32(4), F64(8);

        final int size;

        Kind(int size) {
            this.size = size;
        }
    }

    /** @param index position in declaration order */
    public record Field(String name, Kind kind, int offset, int index) {
    }

    private final String name;
    private final Map<String, Field> fields;
    private final int size;

    private StructLayout(String name, Map<String, Field> fields, int size) {
        this.name = name;
        this.fields = Collections.unmodifiableMap(fields);
        this.size = size;
    }

    public static Builder struct(String name) {
        return new Builder(name);
    }

    public String name() {
        return name;
    }

    /** sizeof(the struct). */
    public int size() {
        return size;
    }

    public List<Field> fields() {
        return new ArrayList<>(fields.values());
    }

    public int fieldCount() {
        return fields.size();
    }

    Field field(String field) {
        Field f = fields.get(field);
        if (f == null) throw new IllegalArgumentException(name + " has no field " + field);
        return f;
    }

    public static final class Builder {
        private final String name;
        private final Map<String, Field> fields = new LinkedHashMap<>();
        private int offset;
        private int align = 1;

        private Builder(String name) {
            this.name = name;
        }

        private Builder add(String field, Kind kind) {
            offset = (offset + kind.size - 1) / kind.size * kind.size;
            if (fields.put(field, new Field(field, kind, offset, fields.size())) != null) throw new IllegalArgumentException(field + " twice");
            offset += kind.size;
            align = Math.max(align, kind.size);
            return this;
        }

        public Builder ptr(String... names) {
            for (String n : names) add(n, Kind.PTR);
            return this;
        }

        public Builder i64(String... names) {
            for (String n : names) add(n, Kind.I64);
            return this;
        }

        public Builder i32(String... names) {
            for (String n : names) add(n, Kind.I32);
            return this;
        }

        /**
         * A struct member of struct type: its fields under {@code prefix + "." + field} (the
         * designator offsetof takes), aligned and padded as the inner struct is.
         */
        public Builder embed(String prefix, StructLayout inner) {
            int innerAlign = 1;
            for (Field f : inner.fields.values()) innerAlign = Math.max(innerAlign, f.kind().size);
            offset = (offset + innerAlign - 1) / innerAlign * innerAlign;
            int base = offset;
            for (Field f : inner.fields.values()) {
                String n = prefix + "." + f.name();
                if (fields.put(n, new Field(n, f.kind(), base + f.offset(), fields.size())) != null) {
                    throw new IllegalArgumentException(n + " twice");
                }
            }
            offset = base + inner.size;
            align = Math.max(align, innerAlign);
            return this;
        }

        public Builder f32(String... names) {
            for (String n : names) add(n, Kind.F32);
            return this;
        }

        public Builder f64(String... names) {
            for (String n : names) add(n, Kind.F64);
            return this;
        }

        /** An int32 array member, as fields {@code name[0]} .. {@code name[count-1]} (what offsetof takes). */
        public Builder i32Array(String name, int count) {
            for (int i = 0; i < count; i++) add(name + "[" + i + "]", Kind.I32);
            return this;
        }

        public StructLayout build() {
            return new StructLayout(name, fields, (offset + align - 1) / align * align);
        }
    }
}
