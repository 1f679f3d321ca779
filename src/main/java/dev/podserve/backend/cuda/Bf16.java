package dev.podserve.backend.cuda;

/** bfloat16 as raw 16-bit patterns: the top half of an fp32, rounded to nearest even. */
public final class Bf16 {

    private Bf16() {
    }

    public static short fromFloat(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) return (short) 0x7fc0;
        return (short) ((bits + 0x7fff + ((bits >>> 16) & 1)) >>> 16);
    }

    public static float toFloat(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }

    /** The value bf16 storage keeps of {@code f}. */
    public static float round(float f) {
        return toFloat(fromFloat(f));
    }
}
