package dev.podserve.model;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.podserve.model.safetensors.Checkpoint;
import dev.podserve.model.safetensors.CheckpointException;
import dev.podserve.model.safetensors.Dtype;
import dev.podserve.model.safetensors.HfTensorNames;
import dev.podserve.model.safetensors.SafetensorsFile;
import dev.podserve.model.safetensors.TensorEntry;

/**
 * Reads a HuggingFace safetensors checkpoint into fp32 {@link ModelWeights}: every file is opened and
 * every needed tensor checked (present, convertible dtype, the shape {@code config.json} implies)
 * before any conversion, then the tensors are converted in pieces by several threads, straight from
 * the memory-mapped files into the weight arrays.
 */
public final class CheckpointLoader {

    private static final Logger log = LoggerFactory.getLogger(CheckpointLoader.class);

    /** Elements per conversion task: enough tasks to balance threads, few enough that scheduling is free. */
    public static final int DEFAULT_PIECE_ELEMENTS = 1 << 22;

    /**
     * @param threads       threads that allocate and convert
     * @param mapChunkBytes largest single memory mapping (one buffer holds at most 2^31-1 bytes)
     * @param pieceElements elements one conversion task converts
     */
    public record Options(int threads, long mapChunkBytes, int pieceElements) {

        public Options {
            if (threads < 1 || mapChunkBytes < 1 || pieceElements < 1) {
                throw new IllegalArgumentException("threads, mapChunkBytes and pieceElements must be positive");
            }
        }

        public static Options withThreads(int threads) {
            return new Options(threads, SafetensorsFile.DEFAULT_MAP_CHUNK_BYTES, DEFAULT_PIECE_ELEMENTS);
        }
    }

    private CheckpointLoader() {
    }

    public static LoadedCheckpoint load(Path dir, ModelConfig config, int threads) {
        return load(dir, config, Options.withThreads(threads));
    }

    public static LoadedCheckpoint load(Path dir, ModelConfig config, Options options) {
        long t0 = System.nanoTime();
        Checkpoint checkpoint = Checkpoint.open(dir, options.mapChunkBytes());
        ModelWeights weights = ModelWeights.allocate(config, options.threads());
        double allocationSeconds = (System.nanoTime() - t0) / 1e9;

        List<HfTensorNames.Slot> slots = HfTensorNames.slots(weights);
        List<Checkpoint.Located> sources = new ArrayList<>(slots.size());
        for (HfTensorNames.Slot slot : slots) sources.add(checked(checkpoint, slot));
        warnAboutIgnored(checkpoint, slots, config);

        int[] pieces = new int[slots.size()];
        long bytes = 0;
        Map<String, Long> bytesByDtype = new LinkedHashMap<>();
        for (int i = 0; i < slots.size(); i++) {
            TensorEntry e = sources.get(i).entry();
            pieces[i] = (int) ((e.elements() + options.pieceElements() - 1) / options.pieceElements());
            bytes += e.bytes();
            bytesByDtype.merge(e.dtype(), e.bytes(), Long::sum);
        }
        LoadProgress progress = new LoadProgress(log, checkpoint.source().toString(), pieces, bytes, t0);
        ParallelTasks.run(conversions(slots, sources, options.pieceElements(), progress), options.threads(), "checkpoint-load");
        progress.finish();
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new LoadedCheckpoint(weights, checkpoint.source(), checkpoint.files().size(), slots.size(),
                dtypeText(bytesByDtype), bytes, seconds, allocationSeconds);
    }

    /** One task per piece, in file order within each tensor, so that a cold file is read mostly front to back. */
    private static List<Runnable> conversions(List<HfTensorNames.Slot> slots, List<Checkpoint.Located> sources, int pieceElements,
                                              LoadProgress progress) {
        List<Runnable> tasks = new ArrayList<>();
        for (int i = 0; i < slots.size(); i++) {
            int tensor = i;
            HfTensorNames.Slot slot = slots.get(i);
            Checkpoint.Located src = sources.get(i);
            int elementBytes = src.entry().type().bytes();
            // long: an int counter would wrap past a tensor near the 2^31-element array limit.
            for (long start = 0; start < slot.length(); start += pieceElements) {
                int from = (int) start;
                int n = (int) Math.min(pieceElements, slot.length() - start);
                tasks.add(() -> {
                    src.file().read(src.entry(), from, slot.array(), slot.offset() + from, n);
                    progress.pieceDone(tensor, (long) n * elementBytes);
                });
            }
        }
        return tasks;
    }

    private static Checkpoint.Located checked(Checkpoint checkpoint, HfTensorNames.Slot slot) {
        Checkpoint.Located at = checkpoint.locate(slot.name());
        if (at == null) {
            String hint = slot.name().equals(HfTensorNames.LM_HEAD) ? " (config.json has tie_word_embeddings false)" : "";
            throw new CheckpointException(checkpoint.source() + ": missing tensor '" + slot.name() + "'" + hint);
        }
        TensorEntry e = at.entry();
        Dtype type = e.type();
        if (type == null || !type.convertible()) {
            throw new CheckpointException(at.file().path() + ": tensor '" + e.name() + "' has dtype " + e.dtype()
                    + "; weights must be BF16, F16 or F32");
        }
        if (!e.hasShape(slot.shape())) {
            throw new CheckpointException(at.file().path() + ": tensor '" + e.name() + "' has shape " + e.shapeText()
                    + ", expected " + slot.shapeText() + " from config.json");
        }
        return at;
    }

    /**
     * Tensors the model does not read are skipped, but a skipped layer weight may mean the checkpoint is of
     * an architecture this build serves wrongly (biases, say), so say which.
     */
    private static void warnAboutIgnored(Checkpoint checkpoint, List<HfTensorNames.Slot> slots, ModelConfig config) {
        Set<String> used = new HashSet<>();
        for (HfTensorNames.Slot s : slots) used.add(s.name());
        List<String> ignored = checkpoint.names().stream()
                .filter(n -> !used.contains(n))
                .filter(n -> !n.endsWith("rotary_emb.inv_freq"))
                .filter(n -> !(config.tieWordEmbeddings() && n.equals(HfTensorNames.LM_HEAD)))
                .toList();
        if (!ignored.isEmpty()) {
            log.warn("{}: ignoring {} tensor(s) this model does not use: {}", checkpoint.source(), ignored.size(),
                    ignored.stream().limit(8).collect(Collectors.joining(", ")) + (ignored.size() > 8 ? ", ..." : ""));
        }
    }

    private static String dtypeText(Map<String, Long> bytesByDtype) {
        return bytesByDtype.entrySet().stream()
                .sorted(Map.Entry.<String, Long>comparingByValue().reversed())
                .map(Map.Entry::getKey)
                .collect(Collectors.joining("+"));
    }
}
