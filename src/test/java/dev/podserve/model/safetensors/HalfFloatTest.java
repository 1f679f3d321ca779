package dev.podserve.model.safetensors;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class HalfFloatTest {

    /** binary16 decoded from its definition in double arithmetic: sign, 5-bit exponent (bias 15), 10-bit fraction. */
    static float f16Reference(int h) {
        double sign = (h & 0x8000) != 0 ? -1 : 1;
        int exp = (h >>> 10) & 0x1f;
        int frac = h & 0x3ff;
        if (exp == 0x1f) return frac == 0 ? (float) (sign * Double.POSITIVE_INFINITY) : Float.NaN;
        if (exp == 0) return (float) (sign * Math.scalb((double) frac, -24));
        return (float) (sign * Math.scalb((double) (1024 + frac), exp - 25));
    }

    /** bfloat16 from its definition: sign, 8-bit exponent (bias 127), 7-bit fraction. */
    static float bf16Reference(int b) {
        double sign = (b & 0x8000) != 0 ? -1 : 1;
        int exp = (b >>> 7) & 0xff;
        int frac = b & 0x7f;
        if (exp == 0xff) return frac == 0 ? (float) (sign * Double.POSITIVE_INFINITY) : Float.NaN;
        if (exp == 0) return (float) (sign * Math.scalb((double) frac, -133));
        return (float) (sign * Math.scalb((double) (128 + frac), exp - 134));
    }

    /** Equal bit for bit (so -0 differs from +0), with every NaN equal to every NaN. */
    static void assertSameValue(float actual, float expected, int pattern) {
        if (Float.isNaN(expected)) {
            assertThat(actual).as("pattern 0x%04x", pattern).isNaN();
        } else {
            assertThat(Float.floatToRawIntBits(actual)).as("pattern 0x%04x: %s vs %s", pattern, actual, expected)
                    .isEqualTo(Float.floatToRawIntBits(expected));
        }
    }

    @Test
    void everyF16PatternWidensAsTheDefinitionSays() {
        for (int h = 0; h < 1 << 16; h++) assertSameValue(HalfFloat.f16ToFloat((short) h), f16Reference(h), h);
        assertThat(HalfFloat.f16ToFloat((short) 0x0001)).isEqualTo(0x1p-24f);
        assertThat(HalfFloat.f16ToFloat((short) 0x03ff)).isEqualTo(1023 * 0x1p-24f);
        assertThat(HalfFloat.f16ToFloat((short) 0x7bff)).isEqualTo(65504f);
        assertThat(HalfFloat.f16ToFloat((short) 0x3c00)).isEqualTo(1f);
        assertThat(Float.floatToRawIntBits(HalfFloat.f16ToFloat((short) 0x8000))).isEqualTo(0x80000000);
        assertThat(HalfFloat.f16ToFloat((short) 0xfc00)).isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(HalfFloat.f16ToFloat((short) 0x7e00)).isNaN();
    }

    @Test
    void everyBf16PatternWidensAsTheDefinitionSays() {
        for (int b = 0; b < 1 << 16; b++) assertSameValue(HalfFloat.bf16ToFloat((short) b), bf16Reference(b), b);
    }

    @Test
    void narrowingIsExactForRepresentableValues() {
        for (int h = 0; h < 1 << 16; h++) {
            float f = f16Reference(h);
            if (Float.isNaN(f)) {
                assertThat(HalfFloat.f16ToFloat(HalfFloat.floatToF16(f))).isNaN();
            } else {
                assertThat(HalfFloat.floatToF16(f) & 0xffff).as("f16 0x%04x", h).isEqualTo(h);
            }
            float b = bf16Reference(h);
            if (Float.isNaN(b)) {
                assertThat(HalfFloat.bf16ToFloat(HalfFloat.floatToBf16(b))).isNaN();
            } else {
                assertThat(HalfFloat.floatToBf16(b) & 0xffff).as("bf16 0x%04x", h).isEqualTo(h);
            }
        }
    }

    /** Between neighbours a < b: the midpoint goes to the even one, anything off the midpoint to the nearer. */
    @Test
    void narrowingRoundsToNearestEvenBetweenEveryPairOfNeighbours() {
        for (int sign : new int[] {0, 0x8000}) {
            for (int h = 0; h < 0x7bff; h++) {
                checkPair(sign | h, sign | (h + 1), f16Reference(sign | h), f16Reference(sign | (h + 1)), true);
            }
            for (int b = 0; b < 0x7f7f; b++) {
                checkPair(sign | b, sign | (b + 1), bf16Reference(sign | b), bf16Reference(sign | (b + 1)), false);
            }
        }
    }

    private static void checkPair(int lo, int hi, float a, float b, boolean f16) {
        float mid = (float) (((double) a + b) / 2);
        assertThat((double) mid).isEqualTo(((double) a + b) / 2);
        int even = (lo & 1) == 0 ? lo : hi;
        assertThat(narrow(mid, f16)).as("midpoint of 0x%04x and 0x%04x", lo, hi).isEqualTo(even);
        // Patterns of one sign grow in magnitude, so a is nearer zero than b.
        float towardsA = Math.nextAfter(mid, 0.0);
        float towardsB = Math.nextAfter(mid, Math.copySign(Double.POSITIVE_INFINITY, mid));
        assertThat(narrow(towardsA, f16)).as("just off the midpoint towards 0x%04x", lo).isEqualTo(lo);
        assertThat(narrow(towardsB, f16)).as("just off the midpoint towards 0x%04x", hi).isEqualTo(hi);
    }

    private static int narrow(float f, boolean f16) {
        return (f16 ? HalfFloat.floatToF16(f) : HalfFloat.floatToBf16(f)) & 0xffff;
    }

    @Test
    void narrowingOverflowsToInfinityAndUnderflowsToSignedZero() {
        assertThat(HalfFloat.floatToF16(65519.99f) & 0xffff).isEqualTo(0x7bff);
        assertThat(HalfFloat.floatToF16(65520f) & 0xffff).isEqualTo(0x7c00);
        assertThat(HalfFloat.floatToF16(-1e9f) & 0xffff).isEqualTo(0xfc00);
        assertThat(HalfFloat.floatToF16(Float.POSITIVE_INFINITY) & 0xffff).isEqualTo(0x7c00);
        assertThat(HalfFloat.floatToF16(0x1p-25f) & 0xffff).isEqualTo(0x0000);
        assertThat(HalfFloat.floatToF16(Math.nextUp(0x1p-25f)) & 0xffff).isEqualTo(0x0001);
        assertThat(HalfFloat.floatToF16(-1e-30f) & 0xffff).isEqualTo(0x8000);
        assertThat(HalfFloat.floatToF16(Float.NaN) & 0x7c00).isEqualTo(0x7c00);
        assertThat(HalfFloat.floatToF16(Float.NaN) & 0x03ff).isNotZero();
        assertThat(HalfFloat.floatToBf16(Float.MAX_VALUE) & 0xffff).isEqualTo(0x7f80);
        assertThat(HalfFloat.floatToBf16(-Float.MIN_VALUE) & 0xffff).isEqualTo(0x8000);
        // A NaN whose payload lives only in the low 16 bits must not truncate to infinity.
        assertThat(HalfFloat.bf16ToFloat(HalfFloat.floatToBf16(Float.intBitsToFloat(0x7f800001)))).isNaN();
    }
}
