package dev.podserve.backend.cpu;

/**
 * A float exp built only from exactly-specified IEEE operations, so that it gives the same bits in
 * the interpreter, in C1 and C2 code, and lane by lane in {@link VectorKernels} (whose vector version
 * uses these same constants in the same order). {@code Math.exp} is not used on the fast path
 * because its result may differ between an intrinsic and the fallback, which would let a token's
 * logits depend on how warm the JIT was when its batch ran.
 *
 * <p>Method: clamp to the range where 2^n stays a normal float, split x = n*ln2 + r with |r| <= ln2/2
 * (ln2 in two parts so r is exact), e^r by its degree-6 Taylor polynomial (truncation error below
 * 1.3e-7 relative), then scale by 2^n built directly in the exponent bits.
 */
final class FastExp {

    static final float MIN_X = -87f;
    static final float MAX_X = 88f;
    static final float LOG2E = 1.44269504088896341f;
    /** 1.5 * 2^23: adding it rounds to an integer and leaves that integer in the low mantissa bits. */
    static final float ROUND_MAGIC = 12582912f;
    static final int ROUND_MAGIC_BITS = 0x4B400000;
    static final float LN2_HI = 0.693359375f;
    static final float LN2_LO = -2.12194440e-4f;
    static final float C2 = 1f / 2;
    static final float C3 = 1f / 6;
    static final float C4 = 1f / 24;
    static final float C5 = 1f / 120;
    static final float C6 = 1f / 720;

    private FastExp() {
    }

    static float exp(float x) {
        x = Math.min(Math.max(x, MIN_X), MAX_X);
        float t = Math.fma(x, LOG2E, ROUND_MAGIC);
        float n = t - ROUND_MAGIC;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(C6, r, C5);
        p = Math.fma(p, r, C4);
        p = Math.fma(p, r, C3);
        p = Math.fma(p, r, C2);
        p = Math.fma(p, r, 1f);
        p = Math.fma(p, r, 1f);
        float twoToN = Float.intBitsToFloat((Float.floatToRawIntBits(t) - ROUND_MAGIC_BITS + 127) << 23);
        return p * twoToN;
    }

    /** x * sigmoid(x), written as x / (1 + e^-x) so large |x| neither overflows nor loses x. */
    static float silu(float x) {
        return x / (1f + exp(-x));
    }
}
