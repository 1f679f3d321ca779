package dev.podserve.backend.cuda;

import dev.podserve.sampling.DeviceDraw;

/**
 * One step's temperature draws packed as ps_draw's {@code PsDrawRow} array (ParamLayouts.DRAW_ROW),
 * as 32-bit words for one upload through {@link DeviceCopies#ints}, plus which logits row each draw
 * reads. Reused step after step; not thread-safe (the backend packs under its own lock).
 */
final class DrawRows {

    private static final StructLayout ROW = ParamLayouts.DRAW_ROW;
    private static final int WORDS = ROW.size() / 4;

    /** int32 words of PsDrawRow [maxDraws], little-endian doubles as (low, high) word pairs. */
    private final int[] words;
    /** [maxDraws]: the logits row s of draw d. */
    private final int[] rowOf;
    private final int vocab;
    private int count;

    DrawRows(int maxDraws, int vocab) {
        this.words = new int[maxDraws * WORDS];
        this.rowOf = new int[maxDraws];
        this.vocab = vocab;
    }

    /** Packs the non-null entries of {@code draws} (indexed by logits row) in row order; returns their count. */
    int pack(DeviceDraw[] draws) {
        count = 0;
        if (draws == null) return 0;
        java.util.Arrays.fill(words, 0);
        for (int s = 0; s < draws.length; s++) {
            DeviceDraw d = draws[s];
            if (d == null) continue;
            if (d.banned().length > ParamLayouts.DRAW_MAX_BANNED) {
                throw new IllegalArgumentException("a device draw bans " + d.banned().length + " ids; at most "
                        + ParamLayouts.DRAW_MAX_BANNED);
            }
            if (!(d.inverseTemperature() > 0) || !(d.uniform() >= 0 && d.uniform() < 1) || !(d.minP() >= 0 && d.minP() <= 1)
                    || !(d.topP() > 0 && d.topP() <= 1) || d.topK() < 0) {
                throw new IllegalArgumentException("device draw out of range: " + d);
            }
            int base = count * WORDS;
            putDouble(base, "inverseTemperature", d.inverseTemperature());
            putDouble(base, "minP", d.minP());
            putDouble(base, "topP", d.topP());
            putDouble(base, "uniform", d.uniform());
            putInt(base, "row", s);
            putInt(base, "numBanned", d.banned().length);
            putInt(base, "topK", d.topK());
            for (int b = 0; b < d.banned().length; b++) {
                int id = d.banned()[b];
                if (id < 0 || id >= vocab) throw new IllegalArgumentException("banned id " + id + " outside [0, " + vocab + ")");
                putInt(base, "banned[" + b + "]", id);
            }
            rowOf[count++] = s;
        }
        return count;
    }

    /** Draws packed by the last {@link #pack}. */
    int count() {
        return count;
    }

    int[] words() {
        return words;
    }

    int wordCount() {
        return count * WORDS;
    }

    /** The logits row that draw d read. */
    int row(int d) {
        return rowOf[d];
    }

    private void putInt(int base, String field, int value) {
        words[base + ROW.field(field).offset() / 4] = value;
    }

    private void putDouble(int base, String field, double value) {
        long bits = Double.doubleToRawLongBits(value);
        int at = base + ROW.field(field).offset() / 4;
        words[at] = (int) bits;
        words[at + 1] = (int) (bits >>> 32);
    }
}
