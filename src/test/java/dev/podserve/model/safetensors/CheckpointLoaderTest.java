package dev.podserve.model.safetensors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.podserve.model.CheckpointLoader;
import dev.podserve.model.DummyWeights;
import dev.podserve.model.LayerTensor;
import dev.podserve.model.LoadedCheckpoint;
import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelWeights;

class CheckpointLoaderTest {

    @TempDir
    Path dir;

    /** Every dimension different and none a power of two, so a transposed or misplaced tensor shows. */
    private static ModelConfig config(boolean tied) {
        return new ModelConfig("LlamaForCausalLM", 101, 96, 200, 2, 6, 3, 16, 1e-5f, 10000.0, 512, tied, 1, new int[] {2});
    }

    private static ModelWeights weights(boolean tied) {
        return DummyWeights.generate(config(tied), 11, 1);
    }

    private static float round(float f, Dtype dtype) {
        return switch (dtype) {
            case BF16 -> HalfFloat.bf16ToFloat(HalfFloat.floatToBf16(f));
            case F16 -> HalfFloat.f16ToFloat(HalfFloat.floatToF16(f));
            default -> f;
        };
    }

    /** Every tensor of {@code loaded} equals the written one after the round trip through {@code dtype}. */
    private static void assertLoadedAs(ModelWeights written, ModelWeights loaded, Dtype dtype) {
        List<HfTensorNames.Slot> want = HfTensorNames.slots(written);
        List<HfTensorNames.Slot> got = HfTensorNames.slots(loaded);
        assertThat(got).hasSameSizeAs(want);
        for (int s = 0; s < want.size(); s++) {
            HfTensorNames.Slot w = want.get(s);
            HfTensorNames.Slot g = got.get(s);
            assertThat(g.name()).isEqualTo(w.name());
            for (int i = 0; i < w.length(); i++) {
                float expected = round(w.array()[w.offset() + i], dtype);
                if (g.array()[g.offset() + i] != expected) {
                    throw new AssertionError(w.name() + "[" + i + "]: expected " + expected + ", got " + g.array()[g.offset() + i]);
                }
            }
        }
        assertThat(loaded.bytes()).isEqualTo(written.bytes());
    }

    @Test
    void roundTripsEachDtypeFromOneFile() throws IOException {
        ModelWeights w = weights(false);
        for (Dtype dtype : new Dtype[] {Dtype.F32, Dtype.BF16, Dtype.F16}) {
            Path d = dir.resolve(dtype.name());
            assertThat(CheckpointWriter.write(w, d, dtype, Long.MAX_VALUE)).containsExactly(d.resolve("model.safetensors"));
            LoadedCheckpoint loaded = CheckpointLoader.load(d, config(false), 2);
            assertLoadedAs(w, loaded.weights(), dtype);
            assertThat(loaded.dtype()).isEqualTo(dtype.name());
            assertThat(loaded.files()).isEqualTo(1);
            long perLayer = java.util.Arrays.stream(LayerTensor.values()).filter(t -> t.presentFor(config(false))).count();
            assertThat(loaded.tensors()).isEqualTo(2 * perLayer + 3);
            assertThat(loaded.bytesRead()).isEqualTo(config(false).parameterCount() * dtype.bytes());
            assertThat(loaded.source()).isEqualTo(d.resolve("model.safetensors"));
        }
    }

    @Test
    void loadsAShardedCheckpointThroughItsIndex() throws IOException {
        ModelWeights w = weights(false);
        List<Path> files = CheckpointWriter.write(w, dir, Dtype.BF16, 60_000);
        assertThat(files).hasSizeGreaterThan(3).last().isEqualTo(dir.resolve("model.safetensors.index.json"));
        assertThat(files.get(0).getFileName().toString()).matches("model-00001-of-000\\d\\d\\.safetensors");
        LoadedCheckpoint loaded = CheckpointLoader.load(dir, config(false), 2);
        assertLoadedAs(w, loaded.weights(), Dtype.BF16);
        assertThat(loaded.files()).isEqualTo(files.size() - 1);
        assertThat(loaded.source()).isEqualTo(dir.resolve("model.safetensors.index.json"));
    }

    /**
     * Tiny mapping chunks and conversion pieces take every path a multi-gigabyte checkpoint takes (several
     * mappings per file, tensors split into pieces and across mappings), and the thread count changes nothing.
     */
    @Test
    void smallMappingsAndPiecesAndAnyThreadCountGiveTheSameWeights() throws IOException {
        ModelWeights w = weights(false);
        CheckpointWriter.write(w, dir, Dtype.F16, Long.MAX_VALUE);
        SafetensorsFile file = SafetensorsFile.open(dir.resolve("model.safetensors"), 4093);
        assertThat(file.mappings()).isGreaterThan(50);
        for (int threads : new int[] {1, 3}) {
            LoadedCheckpoint loaded = CheckpointLoader.load(dir, config(false), new CheckpointLoader.Options(threads, 4093, 1000));
            assertLoadedAs(w, loaded.weights(), Dtype.F16);
        }
    }

    @Test
    void tiedEmbeddingsNeedNoLmHeadAndIgnoreOneThatIsThere() throws IOException {
        ModelWeights tied = weights(true);
        CheckpointWriter.write(tied, dir, Dtype.F32, Long.MAX_VALUE);
        assertThat(SafetensorsFile.open(dir.resolve("model.safetensors")).tensors()).doesNotContainKey("lm_head.weight");
        ModelWeights loaded = CheckpointLoader.load(dir, config(true), 2).weights();
        assertThat(loaded.lmHead()).isSameAs(loaded.embed());
        assertLoadedAs(tied, loaded, Dtype.F32);

        // Some tied checkpoints still carry a copy of the head: it must not replace the embedding.
        Path withHead = dir.resolve("with-head");
        Files.createDirectories(withHead);
        SafetensorsWriter writer = writerOf(tied, null);
        writer.add("lm_head.weight", Dtype.F32, new long[] {101, 96}, new float[101 * 96]);
        writer.write(withHead.resolve("model.safetensors"));
        ModelWeights again = CheckpointLoader.load(withHead, config(true), 1).weights();
        assertThat(again.lmHead()).isSameAs(again.embed());
        assertLoadedAs(tied, again, Dtype.F32);
    }

    @Test
    void untiedEmbeddingsLoadTheirOwnLmHeadAndRequireIt() throws IOException {
        ModelWeights untied = weights(false);
        CheckpointWriter.write(untied, dir, Dtype.F32, Long.MAX_VALUE);
        ModelWeights loaded = CheckpointLoader.load(dir, config(false), 2).weights();
        assertThat(loaded.lmHead()).isNotSameAs(loaded.embed()).isEqualTo(untied.lmHead());

        Path noHead = dir.resolve("no-head");
        Files.createDirectories(noHead);
        writerOf(untied, "lm_head.weight").write(noHead.resolve("model.safetensors"));
        assertThatThrownBy(() -> CheckpointLoader.load(noHead, config(false), 1)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(noHead.resolve("model.safetensors").toString())
                .hasMessageContaining("missing tensor 'lm_head.weight'").hasMessageContaining("tie_word_embeddings");
    }

    @Test
    void ignoresTensorsTheModelDoesNotUse() throws IOException {
        ModelWeights w = weights(false);
        SafetensorsWriter writer = writerOf(w, null);
        writer.add("model.layers.0.self_attn.rotary_emb.inv_freq", Dtype.F32, new long[] {8}, new float[8]);
        writer.addRaw("model.position_ids", "I64", new long[] {3}, new byte[24]);
        writer.write(dir.resolve("model.safetensors"));
        assertLoadedAs(w, CheckpointLoader.load(dir, config(false), 2).weights(), Dtype.F32);
    }

    /** All tensors of {@code w} in one writer, leaving out {@code skip}. */
    private static SafetensorsWriter writerOf(ModelWeights w, String skip) {
        SafetensorsWriter writer = new SafetensorsWriter();
        for (HfTensorNames.Slot s : HfTensorNames.slots(w)) {
            if (!s.name().equals(skip)) writer.add(s.name(), Dtype.F32, s.shape(), s.array(), s.offset());
        }
        return writer;
    }

    // ---- errors stop the load and name the file and the tensor ----

    @Test
    void aMissingLayerTensorIsAnError() throws IOException {
        String name = HfTensorNames.layerName(1, LayerTensor.DOWN);
        writerOf(weights(false), name).write(dir.resolve("model.safetensors"));
        assertThatThrownBy(() -> CheckpointLoader.load(dir, config(false), 1)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(dir.resolve("model.safetensors").toString())
                .hasMessageContaining("missing tensor 'model.layers.1.mlp.down_proj.weight'");
    }

    @Test
    void aShapeMismatchNamesExpectedAndFound() throws IOException {
        ModelWeights w = weights(false);
        String k = HfTensorNames.layerName(0, LayerTensor.WK);
        SafetensorsWriter writer = writerOf(w, k);
        // Same element count, transposed: only the shape can tell.
        writer.add(k, Dtype.F32, new long[] {96, 48}, new float[96 * 48]);
        writer.write(dir.resolve("model.safetensors"));
        assertThatThrownBy(() -> CheckpointLoader.load(dir, config(false), 1)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(dir.resolve("model.safetensors").toString())
                .hasMessageContaining("'model.layers.0.self_attn.k_proj.weight'")
                .hasMessageContaining("has shape [96, 48], expected [48, 96]");

        Path norm = dir.resolve("norm");
        Files.createDirectories(norm);
        SafetensorsWriter w2 = writerOf(w, "model.norm.weight");
        w2.add("model.norm.weight", Dtype.F32, new long[] {1, 96}, new float[96]);
        w2.write(norm.resolve("model.safetensors"));
        assertThatThrownBy(() -> CheckpointLoader.load(norm, config(false), 1)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("'model.norm.weight' has shape [1, 96], expected [96]");
    }

    @Test
    void unsupportedWeightDtypesAreErrors() throws IOException {
        ModelWeights w = weights(false);
        String o = HfTensorNames.layerName(1, LayerTensor.WO);
        SafetensorsWriter fp8 = writerOf(w, o);
        fp8.addRaw(o, "F8_E4M3", new long[] {96, 96}, new byte[96 * 96]);
        fp8.write(dir.resolve("model.safetensors"));
        assertThatThrownBy(() -> CheckpointLoader.load(dir, config(false), 1)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(dir.resolve("model.safetensors").toString())
                .hasMessageContaining("'model.layers.1.self_attn.o_proj.weight' has dtype F8_E4M3");

        Path ints = dir.resolve("ints");
        Files.createDirectories(ints);
        SafetensorsWriter i64 = writerOf(w, "model.embed_tokens.weight");
        i64.addRaw("model.embed_tokens.weight", "I64", new long[] {101, 96}, new byte[101 * 96 * 8]);
        i64.write(ints.resolve("model.safetensors"));
        assertThatThrownBy(() -> CheckpointLoader.load(ints, config(false), 1)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("'model.embed_tokens.weight' has dtype I64");
    }

    @Test
    void anIndexNamingAMissingShardIsAnError() throws IOException {
        List<Path> files = CheckpointWriter.write(weights(false), dir, Dtype.BF16, 60_000);
        Path gone = files.get(1);
        Files.delete(gone);
        assertThatThrownBy(() -> CheckpointLoader.load(dir, config(false), 1)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(dir.resolve("model.safetensors.index.json").toString())
                .hasMessageContaining("shard '" + gone.getFileName() + "'").hasMessageContaining("missing");
    }

    @Test
    void anIndexPointingATensorAtTheWrongShardIsAnError() throws IOException {
        List<Path> files = CheckpointWriter.write(weights(false), dir, Dtype.BF16, 60_000);
        Path index = dir.resolve("model.safetensors.index.json");
        String other = files.get(1).getFileName().toString();
        String json = Files.readString(index).replace("\"model.embed_tokens.weight\" : \"" + files.get(0).getFileName() + "\"",
                "\"model.embed_tokens.weight\" : \"" + other + "\"");
        Files.writeString(index, json);
        assertThatThrownBy(() -> CheckpointLoader.load(dir, config(false), 1)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(index.toString()).hasMessageContaining("'model.embed_tokens.weight'")
                .hasMessageContaining(other).hasMessageContaining("has no such tensor");
    }

    @Test
    void aBrokenIndexIsAnError() throws IOException {
        Path index = dir.resolve("model.safetensors.index.json");
        Files.writeString(index, "{\"metadata\": {}}");
        assertThatThrownBy(() -> CheckpointLoader.load(dir, config(false), 1)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(index.toString()).hasMessageContaining("'weight_map'");
        Files.writeString(index, "{\"weight_map\": {\"model.norm.weight\": \"../elsewhere.safetensors\"}}");
        assertThatThrownBy(() -> CheckpointLoader.load(dir, config(false), 1)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining("'model.norm.weight'").hasMessageContaining("not a file name");
        Files.writeString(index, "{\"weight_map\": ");
        assertThatThrownBy(() -> CheckpointLoader.load(dir, config(false), 1)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(index.toString()).hasMessageContaining("not valid JSON");
    }

    @Test
    void aCorruptFileStopsTheLoadNamingIt() throws IOException {
        Path file = RawSafetensors.write(dir.resolve("model.safetensors"), 1L << 33, new byte[16], 0);
        assertThatThrownBy(() -> CheckpointLoader.load(dir, config(false), 1)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(file.toString()).hasMessageContaining("header length");
    }

    @Test
    void aFolderWithoutWeightsSaysWhatItHas() throws IOException {
        Files.write(dir.resolve("consolidated.safetensors"), new byte[0]);
        assertThatThrownBy(() -> CheckpointLoader.load(dir, config(false), 1)).isInstanceOf(CheckpointException.class)
                .hasMessageContaining(dir.toString()).hasMessageContaining("no model.safetensors")
                .hasMessageContaining("consolidated.safetensors");
    }
}
