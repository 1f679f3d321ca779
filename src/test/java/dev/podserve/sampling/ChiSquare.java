package dev.podserve.sampling;

/**
 * Pearson's goodness-of-fit test. The p-value is the upper regularised incomplete gamma
 * Q(df / 2, statistic / 2), by its series below a + 1 and its continued fraction above.
 */
final class ChiSquare {

    private ChiSquare() {
    }

    /** Tokens with zero expected probability are left out; callers assert separately that they never occur. */
    static double pValue(long[] observed, double[] expectedProbability) {
        long draws = 0;
        for (long o : observed) draws += o;
        double statistic = 0;
        int cells = 0;
        for (int i = 0; i < observed.length; i++) {
            if (expectedProbability[i] == 0) continue;
            double expected = draws * expectedProbability[i];
            double d = observed[i] - expected;
            statistic += d * d / expected;
            cells++;
        }
        return upperRegularizedGamma((cells - 1) / 2.0, statistic / 2);
    }

    static double upperRegularizedGamma(double a, double x) {
        if (x <= 0) return 1;
        if (x < a + 1) return 1 - lowerSeries(a, x);
        return upperContinuedFraction(a, x);
    }

    private static double lowerSeries(double a, double x) {
        double term = 1 / a;
        double sum = term;
        for (int n = 1; n < 10_000; n++) {
            term *= x / (a + n);
            sum += term;
            if (Math.abs(term) < Math.abs(sum) * 1e-16) break;
        }
        return sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
    }

    /** Modified Lentz evaluation of the continued fraction for Q(a, x). */
    private static double upperContinuedFraction(double a, double x) {
        double tiny = 1e-300;
        double b = x + 1 - a;
        double c = 1 / tiny;
        double d = 1 / b;
        double h = d;
        for (int i = 1; i < 10_000; i++) {
            double an = -i * (i - a);
            b += 2;
            d = an * d + b;
            if (Math.abs(d) < tiny) d = tiny;
            c = b + an / c;
            if (Math.abs(c) < tiny) c = tiny;
            d = 1 / d;
            double delta = d * c;
            h *= delta;
            if (Math.abs(delta - 1) < 1e-16) break;
        }
        return Math.exp(-x + a * Math.log(x) - logGamma(a)) * h;
    }

    /** Lanczos approximation (g = 7, nine coefficients), accurate to ~1e-15 for a > 0. */
    static double logGamma(double a) {
        double[] c = {0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
                -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
                1.5056327351493116e-7};
        if (a < 0.5) return Math.log(Math.PI / Math.abs(Math.sin(Math.PI * a))) - logGamma(1 - a);
        a -= 1;
        double sum = c[0];
        for (int i = 1; i < 9; i++) sum += c[i] / (a + i);
        double t = a + 7.5;
        return 0.5 * Math.log(2 * Math.PI) + (a + 0.5) * Math.log(t) - t + Math.log(sum);
    }
}
