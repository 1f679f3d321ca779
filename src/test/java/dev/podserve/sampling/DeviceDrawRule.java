package dev.podserve.sampling;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The rule ps_draw implements, written plainly from its contract in params.h, for tests: a slow
 * reference of the device's draw, and the draw of test backends that act as a device. It has no
 * candidate cap, so it never hands a row back for being too flat; only NaN, +inf or a row with
 * every token banned give -1.
 */
public final class DeviceDrawRule {

    private DeviceDrawRule() {
    }

    /** The token the device draws from logits row x, or -1 where it hands the row back to the host. */
    public static int token(float[] x, DeviceDraw d) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < x.length; i++) {
            if (Float.isNaN(x[i]) || x[i] == Float.POSITIVE_INFINITY) return -1;
            if (!d.bans(i) && x[i] > max) max = x[i];
        }
        if (max == Float.NEGATIVE_INFINITY) return -1;
        double[] w = new double[x.length];
        double total = 0;
        for (int i = 0; i < x.length; i++) {
            double v = d.bans(i) ? Double.NEGATIVE_INFINITY : x[i];
            w[i] = Math.exp((v - max) * d.inverseTemperature());
            total += w[i];
        }
        return d.topK() > 0 || d.topP() < 1 ? inRankOrder(x, d, w, total) : inIdOrder(d, w);
    }

    private static int inIdOrder(DeviceDraw d, double[] w) {
        double total = 0;
        for (int i = 0; i < w.length; i++) {
            if (w[i] < d.minP()) w[i] = 0;
            total += w[i];
        }
        double target = d.uniform() * total;
        double running = 0;
        int last = -1;
        for (int i = 0; i < w.length; i++) {
            if (w[i] == 0) continue;
            running += w[i];
            last = i;
            if (target < running) return i;
        }
        return last;
    }

    /** Best first (higher logit, then lower id): top-k, then the nucleus, then min-p, then the draw. */
    private static int inRankOrder(float[] x, DeviceDraw d, double[] w, double total) {
        List<Integer> ranked = new ArrayList<>();
        for (int i = 0; i < x.length; i++) {
            // Without top-k the nucleus is taken over tokens of positive weight only.
            if (!d.bans(i) && x[i] != Float.NEGATIVE_INFINITY && (d.topK() > 0 || w[i] > 0)) ranked.add(i);
        }
        ranked.sort(Comparator.<Integer>comparingDouble(i -> -x[i]).thenComparingInt(i -> i));
        int kept = d.topK() > 0 ? Math.min(d.topK(), ranked.size()) : ranked.size();
        if (d.topK() > 0) {
            while (kept > 0 && kept < ranked.size() && x[ranked.get(kept)] + 0f == x[ranked.get(kept - 1)] + 0f) kept++;
        }
        if (d.topP() < 1) {
            double base = d.topK() > 0 ? 0 : total;
            if (d.topK() > 0) for (int j = 0; j < kept; j++) base += w[ranked.get(j)];
            double needed = d.topP() * base;
            double mass = 0;
            int j = 0;
            while (j < kept && (j == 0 || mass < needed)) mass += w[ranked.get(j++)];
            kept = j;
        }
        if (d.minP() > 0) {
            double threshold = d.minP() * w[ranked.get(0)];
            int j = 1;
            while (j < kept && w[ranked.get(j)] >= threshold) j++;
            kept = j;
        }
        double keptMass = 0;
        for (int j = 0; j < kept; j++) keptMass += w[ranked.get(j)];
        double target = d.uniform() * keptMass;
        double running = 0;
        for (int j = 0; j < kept; j++) {
            running += w[ranked.get(j)];
            if (target < running) return ranked.get(j);
        }
        return ranked.get(kept - 1);
    }
}
