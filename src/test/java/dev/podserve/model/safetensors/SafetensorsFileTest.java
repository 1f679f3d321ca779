package dev.podserve.model.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsFileTest {

    @TempDir
    Path dir;

    private static float[] random(Random rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) rnd.nextGaussian() * 3;
        return a;
    }

    private static float[] read(SafetensorsFile f, String name) {
        TensorEntry t = f.tensors().get(name);
        float[] out = new float[(int) t.elements()];
        f.read(t, 0, out, 0, out.length);
        return out;
    }

    private static float[] narrowed(float[] values, Dtype dtype) {
        float[] out = values.clone();
        for (int i = 0; i < out.length; i++) {
            if (dtype == Dtype.BF16) out[i] = HalfFloat.bf16ToFloat(HalfFloat.floatToBf16(out[i]));
            if (dtype == Dtype.F16) out[i] = HalfFloat.f16ToFloat(HalfFloat.floatToF16(out[i]));
        }
        return out;
    }

    /**
     * Odd-sized 16-bit tensors put the F32 ones that follow at offsets that are not multiples of 4, and
     * mapping chunks of 1, 3, 7 and 64 bytes put elements across every kind of chunk boundary: the code
     * path of a file larger than one 2 GB mapping, on a file of a few kilobytes.
     */
    @Test
    void roundTripsEveryDtypeAtAwkwardShapesAndMappingChunkSizes() throws IOException {
        Random rnd = new Random(7);
        long[][] shapes = {{3, 5, 7}, {13}, {1, 1}, {0, 4}, {2, 0, 3}, {17, 31}};
        Dtype[] dtypes = {Dtype.BF16, Dtype.F32, Dtype.F16};
        SafetensorsWriter w = new SafetensorsWriter().metadata("format", "pt");
        float[][][] expected = new float[dtypes.length][shapes.length][];
        for (int s = 0; s < shapes.length; s++) {
            for (int d = 0; d < dtypes.length; d++) {
                long n = 1;
                for (long x : shapes[s]) n *= x;
                float[] values = random(rnd, (int) n);
                w.add("t" + s + "." + dtypes[d], dtypes[d], shapes[s], values);
                expected[d][s] = narrowed(values, dtypes[d]);
            }
        }
        Path file = dir.resolve("awkward.safetensors");
        long size = w.write(file);
        assertThat(size).isEqualTo(Files.size(file));

        for (long chunk : new long[] {1, 3, 7, 64, SafetensorsFile.DEFAULT_MAP_CHUNK_BYTES}) {
            SafetensorsFile f = SafetensorsFile.open(file, chunk);
            assertThat(f.headerBytes() % 8).isZero();
            assertThat(f.mappings()).isEqualTo((int) ((f.dataBytes() + chunk - 1) / chunk));
            for (int s = 0; s < shapes.length; s++) {
                for (int d = 0; d < dtypes.length; d++) {
                    String name = "t" + s + "." + dtypes[d];
                    TensorEntry t = f.tensors().get(name);
                    assertThat(t.shape()).isEqualTo(shapes[s]);
                    assertThat(t.type()).isEqualTo(dtypes[d]);
                    assertThat(read(f, name)).as("%s with %d-byte mappings", name, chunk).isEqualTo(expected[d][s]);
                }
            }
        }
        assertThat(SafetensorsFile.open(file, 7).tensors().get("t1.F32").begin() % 4).isNotZero();
    }

    @Test
    void readsAnyRunOfElementsIntoAnyOffset() throws IOException {
        float[] values = random(new Random(3), 1001);
        Path file = dir.resolve("runs.safetensors");
        new SafetensorsWriter().add("odd", Dtype.F16, new long[] {1}, new float[1])
                .add("v", Dtype.BF16, new long[] {7, 11, 13}, values).write(file);
        float[] want = narrowed(values, Dtype.BF16);
        SafetensorsFile f = SafetensorsFile.open(file, 5);
        TensorEntry t = f.tensors().get("v");
        float[] dst = new float[1010];
        f.read(t, 333, dst, 9, 500);
        for (int i = 0; i < 500; i++) assertThat(dst[9 + i]).isEqualTo(want[333 + i]);
        assertThat(dst[8]).isZero();
        assertThat(dst[509]).isZero();
        assertThatThrownBy(() -> f.read(t, 1000, dst, 0, 2)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    /** The loader's conversion of every 16-bit pattern, written as raw bytes, against the definition. */
    @Test
    void convertsEveryRawF16AndBf16PatternIncludingSubnormalsZerosInfinitiesAndNans() throws IOException {
        ByteBuffer all = ByteBuffer.allocate(2 << 16).order(ByteOrder.LITTLE_ENDIAN);
        for (int h = 0; h < 1 << 16; h++) all.putShort((short) h);
        Path file = dir.resolve("patterns.safetensors");
        new SafetensorsWriter().addRaw("f16", "F16", new long[] {256, 256}, all.array())
                .addRaw("pad", "U8", new long[] {1}, new byte[1])
                .addRaw("bf16", "BF16", new long[] {1 << 16}, all.array()).write(file);
        SafetensorsFile f = SafetensorsFile.open(file, 4099);
        float[] f16 = read(f, "f16");
        float[] bf16 = read(f, "bf16");
        for (int h = 0; h < 1 << 16; h++) {
            HalfFloatTest.assertSameValue(f16[h], HalfFloatTest.f16Reference(h), h);
            HalfFloatTest.assertSameValue(bf16[h], HalfFloatTest.bf16Reference(h), h);
        }
    }

    @Test
    void keepsUnknownDtypesReadableAsEntriesButRefusesToConvertThem() throws IOException {
        Path file = dir.resolve("mixed.safetensors");
        new SafetensorsWriter().addRaw("scale", "F8_E4M3", new long[] {4}, new byte[4])
                .addRaw("packed", "F4", new long[] {6}, new byte[3]).write(file);
        SafetensorsFile f = SafetensorsFile.open(file);
        assertThat(f.tensors().get("packed").type()).isNull();
        assertThatThrownBy(() -> f.read(f.tensors().get("scale"), 0, new float[4], 0, 4))
                .isInstanceOf(CheckpointException.class).hasMessageContaining(file.toString())
                .hasMessageContaining("'scale'").hasMessageContaining("F8_E4M3");
    }

    // ---- broken files: every message names the file, and the tensor and field when one is at fault ----

    private void assertBroken(Path file, String... fragments) {
        assertThatThrownBy(() -> SafetensorsFile.open(file)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(file.toString()).hasMessageContainingAll(fragments);
    }

    @Test
    void rejectsFilesTooShortForTheLengthField() throws IOException {
        assertBroken(Files.write(dir.resolve("tiny.safetensors"), new byte[5]), "truncated", "5 bytes");
        assertBroken(Files.write(dir.resolve("empty.safetensors"), new byte[0]), "truncated");
    }

    @Test
    void rejectsHeaderLengthsTheFileCannotHold() throws IOException {
        byte[] json = "{}".getBytes();
        assertBroken(RawSafetensors.write(dir.resolve("long.safetensors"), 4096, json, 10), "truncated", "header length 4096");
        assertBroken(RawSafetensors.write(dir.resolve("huge.safetensors"), 1L << 40, json, 0), "corrupt", "header length 1099511627776");
        assertBroken(RawSafetensors.write(dir.resolve("negative.safetensors"), -8, json, 0), "corrupt", "header length -8");
        assertBroken(RawSafetensors.write(dir.resolve("zero.safetensors"), 0, json, 0), "corrupt", "header length 0");
    }

    @Test
    void rejectsHeadersThatAreNotAJsonObject() throws IOException {
        assertBroken(RawSafetensors.write(dir.resolve("text.safetensors"), "{\"a\": {\"dtype\": ", 0), "corrupt", "not valid JSON");
        assertBroken(RawSafetensors.write(dir.resolve("array.safetensors"), "[1, 2]", 0), "corrupt", "JSON object");
        byte[] latin1 = {'{', '"', (byte) 0xe9, '"', ':', '1', '}'};
        assertBroken(RawSafetensors.write(dir.resolve("latin1.safetensors"), latin1.length, latin1, 0), "not UTF-8");
        assertBroken(RawSafetensors.write(dir.resolve("dup.safetensors"),
                "{\"w\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1]},"
                        + " \"w\": {\"dtype\": \"U8\", \"shape\": [1], \"data_offsets\": [0, 1]}}", 1), "Duplicate", "\"w\"");
        assertBroken(RawSafetensors.write(dir.resolve("meta.safetensors"), "{\"__metadata__\": 3}", 0), "'__metadata__'");
    }

    @Test
    void rejectsMalformedTensorEntriesNamingTensorAndField() throws IOException {
        assertBroken(RawSafetensors.write(dir.resolve("a.safetensors"), "{\"w\": {\"shape\": [2], \"data_offsets\": [0, 8]}}", 8),
                "tensor 'w'", "field 'dtype'");
        assertBroken(RawSafetensors.write(dir.resolve("b.safetensors"), "{\"w\": {\"dtype\": \"F32\", \"shape\": [2, -1], \"data_offsets\": [0, 8]}}", 8),
                "tensor 'w'", "field 'shape'", "-1");
        assertBroken(RawSafetensors.write(dir.resolve("c.safetensors"), "{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0]}}", 8),
                "tensor 'w'", "field 'data_offsets'", "2 integers");
        assertBroken(RawSafetensors.write(dir.resolve("d.safetensors"), "{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 0]}}", 8),
                "tensor 'w'", "field 'data_offsets'");
        assertBroken(RawSafetensors.write(dir.resolve("e.safetensors"), "{\"w\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 2.5]}}", 8),
                "tensor 'w'", "field 'data_offsets'");
        assertBroken(RawSafetensors.write(dir.resolve("f.safetensors"), "{\"w\": [1]}", 8), "tensor 'w'");
        assertBroken(RawSafetensors.write(dir.resolve("g.safetensors"),
                "{\"w\": {\"dtype\": \"F32\", \"shape\": [4294967296, 4294967296], \"data_offsets\": [0, 8]}}", 8), "tensor 'w'", "too large");
    }

    @Test
    void rejectsOffsetsThatDisagreeWithDtypeTimesShape() throws IOException {
        assertBroken(RawSafetensors.write(dir.resolve("span.safetensors"),
                "{\"ok\": {\"dtype\": \"U8\", \"shape\": [2], \"data_offsets\": [0, 2]},"
                        + " \"w\": {\"dtype\": \"BF16\", \"shape\": [3, 2], \"data_offsets\": [2, 10]}}", 16),
                "tensor 'w'", "field 'data_offsets'", "spans 8 bytes", "needs 12");
    }

    @Test
    void rejectsTensorsThatRunPastATruncatedDataSection() throws IOException {
        Path file = dir.resolve("cut.safetensors");
        new SafetensorsWriter().add("a", Dtype.F32, new long[] {4}, new float[4])
                .add("b", Dtype.BF16, new long[] {2, 3}, new float[6]).write(file);
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 3);
        }
        assertBroken(file, "tensor 'b'", "field 'data_offsets'", "truncated file?");
    }

    @Test
    void reportsAMissingFile() {
        Path file = dir.resolve("absent.safetensors");
        assertBroken(file, "no such file");
    }
}
