package dev.podserve.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

import dev.podserve.sampling.DeviceDraw;

/**
 * The host side of ps_draw's upload: each DeviceDraw packed at PsDrawRow's offsets (doubles as
 * little-endian word pairs, the gcc layout StructLayoutTest checks), draws in row order with the
 * rows they read, unused banned slots zero, and out-of-range draws refused before they reach the GPU.
 * No GPU needed.
 */
class DrawRowsTest {

    private static final StructLayout ROW = ParamLayouts.DRAW_ROW;

    private static double doubleAt(int[] words, int base, String field) {
        int at = base + ROW.fields().stream().filter(f -> f.name().equals(field)).findFirst().orElseThrow().offset() / 4;
        return Double.longBitsToDouble(((long) words[at + 1] << 32) | (words[at] & 0xffffffffL));
    }

    private static int intAt(int[] words, int base, String field) {
        return words[base + ROW.fields().stream().filter(f -> f.name().equals(field)).findFirst().orElseThrow().offset() / 4];
    }

    @Test
    void drawsArePackedAtTheStructsOffsetsInRowOrder() {
        DrawRows rows = new DrawRows(4, 1000);
        DeviceDraw a = new DeviceDraw(1 / 0.7, 0.05, 0, 1.0, 0.123456789, new int[] {7, 999});
        DeviceDraw b = new DeviceDraw(2.5, 0, 40, 0.9, 0.999999, new int[0]);
        int n = rows.pack(new DeviceDraw[] {null, a, null, b});
        assertThat(n).isEqualTo(2);
        assertThat(rows.count()).isEqualTo(2);
        assertThat(rows.row(0)).isEqualTo(1);
        assertThat(rows.row(1)).isEqualTo(3);
        int[] w = rows.words();
        int per = ROW.size() / 4;
        assertThat(rows.wordCount()).isEqualTo(2 * per);
        assertThat(doubleAt(w, 0, "inverseTemperature")).isEqualTo(1 / 0.7);
        assertThat(doubleAt(w, 0, "minP")).isEqualTo(0.05);
        assertThat(doubleAt(w, 0, "topP")).isEqualTo(1.0);
        assertThat(doubleAt(w, 0, "uniform")).isEqualTo(0.123456789);
        assertThat(intAt(w, 0, "row")).isEqualTo(1);
        assertThat(intAt(w, 0, "topK")).isZero();
        assertThat(intAt(w, 0, "numBanned")).isEqualTo(2);
        assertThat(intAt(w, 0, "banned[0]")).isEqualTo(7);
        assertThat(intAt(w, 0, "banned[1]")).isEqualTo(999);
        assertThat(intAt(w, 0, "banned[2]")).isZero();
        assertThat(doubleAt(w, per, "inverseTemperature")).isEqualTo(2.5);
        assertThat(doubleAt(w, per, "topP")).isEqualTo(0.9);
        assertThat(doubleAt(w, per, "uniform")).isEqualTo(0.999999);
        assertThat(intAt(w, per, "row")).isEqualTo(3);
        assertThat(intAt(w, per, "topK")).isEqualTo(40);
        assertThat(intAt(w, per, "numBanned")).isZero();
        // A later step with fewer draws leaves no stale words in what it uploads.
        assertThat(rows.pack(new DeviceDraw[] {b})).isEqualTo(1);
        assertThat(intAt(rows.words(), 0, "row")).isZero();
        assertThat(rows.pack(null)).isZero();
    }

    @Test
    void drawsTheKernelCannotTakeAreRefused() {
        DrawRows rows = new DrawRows(2, 100);
        assertThatThrownBy(() -> rows.pack(new DeviceDraw[] {new DeviceDraw(1, 0, 0, 1, 0.5, new int[9])}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("bans 9");
        assertThatThrownBy(() -> rows.pack(new DeviceDraw[] {new DeviceDraw(1, 0, 0, 1, 0.5, new int[] {100})}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("banned id 100");
        for (DeviceDraw bad : new DeviceDraw[] {new DeviceDraw(0, 0, 0, 1, 0.5, new int[0]), new DeviceDraw(1, 0, 0, 1, 1.0, new int[0]),
                new DeviceDraw(1, 0, 0, 0, 0.5, new int[0]), new DeviceDraw(1, 1.5, 0, 1, 0.5, new int[0]),
                new DeviceDraw(1, 0, -1, 1, 0.5, new int[0]), new DeviceDraw(Double.NaN, 0, 0, 1, 0.5, new int[0])}) {
            assertThatThrownBy(() -> rows.pack(new DeviceDraw[] {bad})).as("%s", bad).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
