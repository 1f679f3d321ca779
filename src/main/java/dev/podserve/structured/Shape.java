package dev.podserve.structured;

import java.util.Arrays;
import java.util.List;

/**
 * What a JSON value may look like at one place of the output: the part of a JSON Schema that the
 * recognizer can enforce byte by byte. Shapes compare by identity (a recursive schema refers back
 * to itself), and frames hold them by reference.
 */
public sealed interface Shape {

    /** Longest run of JSON whitespace accepted between two tokens of the syntax. */
    int MAX_WHITESPACE = 20;

    /** Any JSON value: the values of a free object or array, and an empty schema. */
    final class Any implements Shape {
        static final Any INSTANCE = new Any();

        private Any() {
        }
    }

    /**
     * An object.
     *
     * @param properties   named members, at most 64 (a member is a bit of a {@code long})
     * @param required     bit i set: properties[i] must appear
     * @param additional   what a member of any other name holds; null: no other names
     */
    record ObjectShape(List<Property> properties, long required, Shape additional) implements Shape {

        /** {@code {"type": "object"}} with nothing else said: any members. */
        static final ObjectShape FREE = new ObjectShape(List.of(), 0, Any.INSTANCE);

        /** Whether a member may still be added when {@code seen} are already there. */
        boolean moreAllowed(long seen) {
            return additional != null || (allBits() & ~seen) != 0;
        }

        long allBits() {
            return properties.size() == 64 ? -1L : (1L << properties.size()) - 1;
        }
    }

    /**
     * @param name the member's name
     * @param key  its name as the bytes between the quotes of the compact JSON encoding
     */
    record Property(String name, byte[] key, Shape value) {
    }

    /**
     * An array.
     *
     * @param prefix   the shapes of its first items, in order
     * @param items    the shape of every item after the prefix; null: none after it
     * @param maxItems -1: no bound
     */
    record ArrayShape(List<Shape> prefix, Shape items, int minItems, int maxItems) implements Shape {

        static final ArrayShape FREE = new ArrayShape(List.of(), Any.INSTANCE, 0, -1);

        /** The shape of item {@code index}, or null where the array may not have it. */
        Shape item(int index) {
            if (maxItems >= 0 && index >= maxItems) return null;
            return index < prefix.size() ? prefix.get(index) : items;
        }
    }

    /**
     * A string, its length counted in characters as JSON Schema counts them: an escape sequence is
     * one, a UTF-8 character is one.
     *
     * @param maxLength -1: no bound
     */
    record StringShape(int minLength, int maxLength) implements Shape {

        static final StringShape FREE = new StringShape(0, -1);

        boolean counts() {
            return minLength > 0 || maxLength >= 0;
        }
    }

    /** A number; {@code integer}: written without fraction or exponent. */
    record NumberShape(boolean integer) implements Shape {
        static final NumberShape NUMBER = new NumberShape(false);
        static final NumberShape INTEGER = new NumberShape(true);
    }

    /**
     * One of fixed byte strings ({@code enum}, {@code const}, {@code true}, {@code null}, or a raw
     * choice outside JSON), sorted so that the strings sharing a prefix are one range and a string
     * comes before its extensions.
     */
    final class Literals implements Shape {
        static final Literals BOOLEAN = of(List.of(bytes("true"), bytes("false")));
        static final Literals NULL = of(List.of(bytes("null")));

        /** [n][length of each]: the strings, unsigned lexicographic order, no duplicates. */
        final byte[][] values;

        private Literals(byte[][] values) {
            this.values = values;
        }

        static Literals of(List<byte[]> values) {
            byte[][] sorted = values.stream().sorted(Arrays::compareUnsigned).toArray(byte[][]::new);
            // Equal strings are neighbours once sorted: keep one of each.
            int n = 0;
            for (int i = 0; i < sorted.length; i++) {
                if (n == 0 || !Arrays.equals(sorted[n - 1], sorted[i])) sorted[n++] = sorted[i];
            }
            if (n == 0) throw new IllegalArgumentException("no literal to match");
            return new Literals(Arrays.copyOf(sorted, n));
        }

        static byte[] bytes(String s) {
            return s.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        }
    }

    /** Any one of several shapes ({@code anyOf}, {@code oneOf}, a list of types). */
    record Union(List<Shape> options) implements Shape {
    }

    /**
     * A {@code $ref}, resolved once the whole schema is read, so that a definition may refer to
     * itself.
     */
    final class Ref implements Shape {
        final String pointer;
        Shape target;

        Ref(String pointer) {
            this.pointer = pointer;
        }
    }
}
