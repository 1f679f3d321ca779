package dev.podserve.sampling;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** The goodness-of-fit helper must itself be right, or the distribution tests prove nothing. */
class ChiSquareTest {

    @Test
    void twoDegreesOfFreedomIsExponential() {
        for (double stat : new double[] {0.1, 1, 5, 20}) {
            assertThat(ChiSquare.upperRegularizedGamma(1, stat / 2)).isCloseTo(Math.exp(-stat / 2), within(1e-12));
        }
    }

    @Test
    void matchesTabulatedCriticalValues() {
        assertThat(ChiSquare.upperRegularizedGamma(0.5, 3.841459 / 2)).isCloseTo(0.05, within(1e-6));
        assertThat(ChiSquare.upperRegularizedGamma(3, 22.457744 / 2)).isCloseTo(0.001, within(1e-8));
        assertThat(ChiSquare.upperRegularizedGamma(3, 1.635383 / 2)).isCloseTo(0.95, within(1e-6));
        assertThat(ChiSquare.upperRegularizedGamma(5, 23.209251 / 2)).isCloseTo(0.01, within(1e-7));
    }

    @Test
    void logGammaOfIntegersIsLogFactorial() {
        assertThat(ChiSquare.logGamma(1)).isCloseTo(0, within(1e-13));
        assertThat(ChiSquare.logGamma(6)).isCloseTo(Math.log(120), within(1e-12));
        assertThat(ChiSquare.logGamma(0.5)).isCloseTo(0.5 * Math.log(Math.PI), within(1e-12));
    }
}
