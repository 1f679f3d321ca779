package dev.podserve.model.safetensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The safetensors weights of a HuggingFace model folder: {@code model.safetensors}, or the shards
 * that {@code model.safetensors.index.json} lists. Every file is opened (header checked, data mapped)
 * up front, so a missing or corrupt shard stops the load before any weight is converted.
 */
public final class Checkpoint {

    public static final String SINGLE_FILE = "model.safetensors";

    /** A tensor and the file holding it. */
    public record Located(SafetensorsFile file, TensorEntry entry) {
    }

    private final Path source;
    private final List<SafetensorsFile> files;
    /** Tensor name to the file the checkpoint says holds it (for a sharded one, the index's word). */
    private final Map<String, SafetensorsFile> owners;

    private Checkpoint(Path source, List<SafetensorsFile> files, Map<String, SafetensorsFile> owners) {
        this.source = source;
        this.files = List.copyOf(files);
        this.owners = owners;
    }

    public static Checkpoint open(Path dir) {
        return open(dir, SafetensorsFile.DEFAULT_MAP_CHUNK_BYTES);
    }

    public static Checkpoint open(Path dir, long mapChunkBytes) {
        Path index = dir.resolve(ShardIndex.FILE_NAME);
        if (Files.isRegularFile(index)) return sharded(dir, index, mapChunkBytes);
        Path single = dir.resolve(SINGLE_FILE);
        if (Files.isRegularFile(single)) {
            SafetensorsFile f = SafetensorsFile.open(single, mapChunkBytes);
            Map<String, SafetensorsFile> owners = new LinkedHashMap<>();
            for (String name : f.tensors().keySet()) owners.put(name, f);
            return new Checkpoint(single, List.of(f), Collections.unmodifiableMap(owners));
        }
        throw new CheckpointException(dir + ": no " + SINGLE_FILE + " or " + ShardIndex.FILE_NAME + otherSafetensors(dir));
    }

    private static Checkpoint sharded(Path dir, Path index, long mapChunkBytes) {
        Map<String, String> weightMap = ShardIndex.read(index);
        Map<String, List<String>> tensorsByShard = new LinkedHashMap<>();
        weightMap.forEach((tensor, shard) -> tensorsByShard.computeIfAbsent(shard, s -> new ArrayList<>()).add(tensor));
        Map<String, SafetensorsFile> opened = new LinkedHashMap<>();
        for (Map.Entry<String, List<String>> e : tensorsByShard.entrySet()) {
            Path shard = dir.resolve(e.getKey());
            if (!Files.isRegularFile(shard)) {
                List<String> tensors = e.getValue();
                throw new CheckpointException(index + ": names shard '" + e.getKey() + "' (for tensor '" + tensors.get(0) + "'"
                        + (tensors.size() > 1 ? " and " + (tensors.size() - 1) + " more" : "") + "), which is missing from " + dir);
            }
            opened.put(e.getKey(), SafetensorsFile.open(shard, mapChunkBytes));
        }
        Map<String, SafetensorsFile> owners = new LinkedHashMap<>();
        weightMap.forEach((tensor, shard) -> owners.put(tensor, opened.get(shard)));
        return new Checkpoint(index, new ArrayList<>(opened.values()), Collections.unmodifiableMap(owners));
    }

    private static String otherSafetensors(Path dir) {
        try (Stream<Path> list = Files.list(dir)) {
            List<String> names = list.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".safetensors")).sorted().toList();
            return names.isEmpty() ? " (and no *.safetensors at all)" : " (it has " + String.join(", ", names) + ")";
        } catch (IOException e) {
            return " (" + e + ")";
        }
    }

    /** The file that names the tensors: the index of a sharded checkpoint, else {@code model.safetensors}. */
    public Path source() {
        return source;
    }

    public List<SafetensorsFile> files() {
        return files;
    }

    /** Every tensor name the checkpoint declares. */
    public Set<String> names() {
        return Collections.unmodifiableSet(new LinkedHashSet<>(owners.keySet()));
    }

    /**
     * Where tensor {@code name} is, or null when the checkpoint does not declare it. A shard that lacks
     * a tensor its index assigns to it is an error, not an absence.
     */
    public Located locate(String name) {
        SafetensorsFile file = owners.get(name);
        if (file == null) return null;
        TensorEntry entry = file.tensors().get(name);
        if (entry == null) {
            throw new CheckpointException(source + ": maps tensor '" + name + "' to " + file.path() + ", which has no such tensor");
        }
        return new Located(file, entry);
    }

    public long dataBytes() {
        long n = 0;
        for (SafetensorsFile f : files) n += f.dataBytes();
        return n;
    }
}
