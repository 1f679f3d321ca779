package dev.podserve.backend.cuda;

import dev.podserve.model.ModelConfig;
import dev.podserve.model.RopeFrequencies;

/**
 * The cos/sin tables ps_rope reads, built on the host exactly as the CPU backend's RopeTable
 * builds them (float angle from the float frequency, StrictMath cos/sin rounded to float, times
 * the rope type's attention factor) and uploaded once for every position the model serves.
 */
final class RopeTables {

    /** Rows in each table: the model's longest context. */
    final int positions;
    /** fp32 [positions][headDim/2]. */
    final long cos;
    /** fp32 [positions][headDim/2]. */
    final long sin;

    static long bytes(ModelConfig cfg) {
        return 2 * DeviceArena.aligned(4L * cfg.maxContextLength() * (cfg.headDim() / 2));
    }

    RopeTables(ModelConfig cfg, DeviceArena arena, DeviceCopies copies) {
        int half = cfg.headDim() / 2;
        this.positions = cfg.maxContextLength();
        RopeFrequencies freqs = new RopeFrequencies(cfg);
        float factor = freqs.attentionFactor();
        float[] c = new float[Math.multiplyExact(positions, half)];
        float[] s = new float[c.length];
        for (int p = 0; p < positions; p++) {
            float[] inv = freqs.at(p);
            for (int i = 0; i < half; i++) {
                float angle = (float) ((double) inv[i] * p);
                c[p * half + i] = (float) StrictMath.cos(angle) * factor;
                s[p * half + i] = (float) StrictMath.sin(angle) * factor;
            }
        }
        this.cos = arena.carve("rope_cos", 4L * c.length).address();
        this.sin = arena.carve("rope_sin", 4L * s.length).address();
        copies.floats(cos, c);
        copies.floats(sin, s);
    }
}
