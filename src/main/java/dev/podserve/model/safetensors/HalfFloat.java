package dev.podserve.model.safetensors;

/**
 * bf16 and IEEE binary16 to and from fp32, bit-exact, for Java 17 (which has no
 * {@code Float.float16ToFloat}). Narrowing rounds to nearest, ties to even, as PyTorch does, and
 * keeps NaN a NaN.
 */
public final class HalfFloat {

    /** fp32 of every binary16 bit pattern: one load per element beats the branches of the decode. */
    private static final float[] F16_TO_F32 = new float[1 << 16];

    static {
        for (int h = 0; h < F16_TO_F32.length; h++) F16_TO_F32[h] = decodeF16(h);
    }

    private HalfFloat() {
    }

    /** bf16 is the top half of an fp32, so widening is a shift and exact for every pattern. */
    public static float bf16ToFloat(short bits) {
        return Float.intBitsToFloat(bits << 16);
    }

    public static float f16ToFloat(short bits) {
        return F16_TO_F32[bits & 0xffff];
    }

    static float[] f16Table() {
        return F16_TO_F32;
    }

    private static float decodeF16(int h) {
        int sign = (h & 0x8000) << 16;
        int exp = (h >>> 10) & 0x1f;
        int mant = h & 0x3ff;
        if (exp == 0x1f) {
            // Infinity, or NaN with its payload moved to the top of the fp32 mantissa.
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            // Zero or subnormal: mant * 2^-24, exact in fp32 (mant has at most 10 bits).
            float magnitude = mant * 0x1p-24f;
            return sign != 0 ? -magnitude : magnitude;
        }
        // Rebias the exponent from 15 to 127.
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    public static short floatToBf16(float f) {
        int bits = Float.floatToRawIntBits(f);
        if ((bits & 0x7fffffff) > 0x7f800000) {
            // Truncating could clear every mantissa bit left and make an infinity: force a quiet NaN.
            return (short) ((bits >>> 16) | 0x40);
        }
        int roundingBias = 0x7fff + ((bits >>> 16) & 1);
        return (short) ((bits + roundingBias) >>> 16);
    }

    public static short floatToF16(float f) {
        int bits = Float.floatToRawIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int abs = bits & 0x7fffffff;
        if (abs > 0x7f800000) return (short) (sign | 0x7e00 | ((abs >>> 13) & 0x3ff));
        if (abs >= 0x477ff000) {
            // 65520 and above round past the largest finite half (65504): infinity, as an infinite input is.
            return (short) (sign | 0x7c00);
        }
        if (abs >= 0x38800000) {
            // Normal half: rebias the exponent, then round the 13 dropped mantissa bits to nearest even.
            int rebased = abs - (112 << 23);
            int rounded = rebased + 0xfff + ((rebased >>> 13) & 1);
            return (short) (sign | (rounded >>> 13));
        }
        if (abs < 0x33000000) {
            // Below half the smallest subnormal (2^-25), or exactly half of it (a tie towards the even zero).
            return (short) sign;
        }
        // Subnormal half: the value in units of 2^-24, rounded to nearest even. The implicit bit is restored first.
        int exp = abs >>> 23;
        int mant = (abs & 0x7fffff) | 0x800000;
        int dropped = 126 - exp;
        int q = mant >>> dropped;
        int rest = mant & ((1 << dropped) - 1);
        int half = 1 << (dropped - 1);
        if (rest > half || (rest == half && (q & 1) == 1)) q++;
        return (short) (sign | q);
    }
}
