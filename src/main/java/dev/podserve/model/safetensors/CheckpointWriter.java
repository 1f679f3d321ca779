package dev.podserve.model.safetensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import dev.podserve.model.ModelWeights;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;
import tools.jackson.databind.node.ObjectNode;

/**
 * Writes {@link ModelWeights} as a HuggingFace checkpoint (tensor names of {@link HfTensorNames}):
 * one {@code model.safetensors}, or shards of at most a given size plus
 * {@code model.safetensors.index.json}, named as {@code save_pretrained} names them.
 */
public final class CheckpointWriter {

    private static final JsonMapper JSON = JsonMapper.builder().enable(SerializationFeature.INDENT_OUTPUT).build();

    private CheckpointWriter() {
    }

    /**
     * @param maxShardBytes data bytes per file before a new shard starts (a tensor larger than this gets a
     *                      shard of its own); the whole checkpoint under it makes one unsharded file
     * @return the files written, the index last when there is one
     */
    public static List<Path> write(ModelWeights w, Path dir, Dtype dtype, long maxShardBytes) throws IOException {
        List<List<HfTensorNames.Slot>> shards = new ArrayList<>();
        List<HfTensorNames.Slot> current = new ArrayList<>();
        long currentBytes = 0;
        for (HfTensorNames.Slot s : HfTensorNames.slots(w)) {
            long bytes = (long) s.length() * dtype.bytes();
            if (!current.isEmpty() && currentBytes + bytes > maxShardBytes) {
                shards.add(current);
                current = new ArrayList<>();
                currentBytes = 0;
            }
            current.add(s);
            currentBytes += bytes;
        }
        shards.add(current);

        Files.createDirectories(dir);
        List<Path> written = new ArrayList<>();
        Map<String, String> weightMap = new TreeMap<>();
        long total = 0;
        for (int i = 0; i < shards.size(); i++) {
            String name = shards.size() == 1 ? Checkpoint.SINGLE_FILE
                    : String.format("model-%05d-of-%05d.safetensors", i + 1, shards.size());
            SafetensorsWriter writer = new SafetensorsWriter().metadata("format", "pt");
            for (HfTensorNames.Slot s : shards.get(i)) {
                writer.add(s.name(), dtype, s.shape(), s.array(), s.offset());
                weightMap.put(s.name(), name);
            }
            total += writer.dataBytes();
            Path file = dir.resolve(name);
            writer.write(file);
            written.add(file);
        }
        if (shards.size() > 1) {
            ObjectNode index = JSON.createObjectNode();
            index.putObject("metadata").put("total_size", total);
            ObjectNode map = index.putObject("weight_map");
            weightMap.forEach(map::put);
            Path file = dir.resolve(ShardIndex.FILE_NAME);
            Files.writeString(file, JSON.writeValueAsString(index) + "\n");
            written.add(file);
        }
        return written;
    }
}
