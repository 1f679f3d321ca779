package dev.podserve.sampling;

/**
 * The rule ps_draw implements, written plainly from its contract in params.h, for tests: a slow
 * reference of the device's draw, and the draw of test backends that act as a device.
 */
public final class DeviceDrawRule {

    private DeviceDrawRule() {
    }

    /** The token the device draws from logits row x, or -1 where it hands the row back to the host. */
    public static int token(float[] x, DeviceDraw d) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < x.length; i++) {
            if (Float.isNaN(x[i]) || x[i] == Float.POSITIVE_INFINITY) return -1;
            if (!banned(d, i) && x[i] > max) max = x[i];
        }
        if (max == Float.NEGATIVE_INFINITY) return -1;
        double[] w = new double[x.length];
        double total = 0;
        for (int i = 0; i < x.length; i++) {
            double v = banned(d, i) ? Double.NEGATIVE_INFINITY : x[i];
            w[i] = Math.exp((v - max) * d.inverseTemperature());
            if (w[i] < d.minP()) w[i] = 0;
            total += w[i];
        }
        double target = d.uniform() * total;
        double running = 0;
        int last = -1;
        for (int i = 0; i < x.length; i++) {
            if (w[i] == 0) continue;
            running += w[i];
            last = i;
            if (target < running) return i;
        }
        return last;
    }

    private static boolean banned(DeviceDraw d, int token) {
        for (int id : d.banned()) {
            if (id == token) return true;
        }
        return false;
    }
}
