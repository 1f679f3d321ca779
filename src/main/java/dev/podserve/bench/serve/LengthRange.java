package dev.podserve.bench.serve;

import java.util.Random;

/** An inclusive range of token counts, written {@code MIN:MAX} (or one number for a fixed length). */
public record LengthRange(int min, int max) {

    public LengthRange {
        if (min < 1 || max < min) throw new IllegalArgumentException("length range " + min + ":" + max + " (need 1 <= min <= max)");
    }

    public static LengthRange fixed(int n) {
        return new LengthRange(n, n);
    }

    public static LengthRange parse(String text) {
        int colon = text.indexOf(':');
        try {
            if (colon < 0) return fixed(Integer.parseInt(text.trim()));
            return new LengthRange(Integer.parseInt(text.substring(0, colon).trim()), Integer.parseInt(text.substring(colon + 1).trim()));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("not a length or MIN:MAX range: " + text);
        }
    }

    /** Uniform over the whole range, both ends included. */
    public int sample(Random random) {
        return min + random.nextInt(max - min + 1);
    }

    /** Divided by a scale factor (the long workloads scaled down for small models); never below 1. */
    public LengthRange scaledDown(int factor) {
        return new LengthRange(Math.max(1, min / factor), Math.max(1, max / factor));
    }

    @Override
    public String toString() {
        return min == max ? Integer.toString(min) : min + ":" + max;
    }
}
