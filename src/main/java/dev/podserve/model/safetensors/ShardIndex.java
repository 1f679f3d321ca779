package dev.podserve.model.safetensors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import tools.jackson.core.JacksonException;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * {@code model.safetensors.index.json} of a sharded checkpoint: {@code weight_map} from tensor name
 * to the shard file (a name in the same folder) holding it.
 */
final class ShardIndex {

    static final String FILE_NAME = "model.safetensors.index.json";

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private ShardIndex() {
    }

    /** Tensor name to shard file name, in the index's order. */
    static Map<String, String> read(Path index) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(index));
        } catch (IOException e) {
            throw new CheckpointException(index + ": cannot read (" + e + ")", e);
        } catch (JacksonException e) {
            throw new CheckpointException(index + ": not valid JSON (" + e.getOriginalMessage() + ")");
        }
        JsonNode map = root == null ? null : root.get("weight_map");
        if (map == null || !map.isObject()) {
            throw new CheckpointException(index + ": field 'weight_map' is missing or not an object");
        }
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : map.properties()) {
            JsonNode v = e.getValue();
            String shard = v.isString() ? v.asString() : "";
            // A shard is a sibling file; anything else would let an index reach outside the model folder.
            if (shard.isEmpty() || shard.contains("/") || shard.contains("\\") || shard.equals("..") || shard.equals(".")) {
                throw new CheckpointException(index + ": field 'weight_map', tensor '" + e.getKey() + "': " + v
                        + " is not a file name in the model folder");
            }
            out.put(e.getKey(), shard);
        }
        return Collections.unmodifiableMap(out);
    }
}
