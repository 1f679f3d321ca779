package dev.podserve.model.safetensors;

import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

import tools.jackson.core.JacksonException;
import tools.jackson.core.StreamReadFeature;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The JSON header of a safetensors file, parsed and checked against the size of the data section
 * it describes. Every complaint names the file and the tensor and field at fault.
 */
final class SafetensorsHeader {

    /** The reference implementation refuses headers above 100 MB; a larger length means a corrupt file. */
    static final long MAX_HEADER_BYTES = 100L << 20;
    static final String METADATA_KEY = "__metadata__";

    private static final JsonMapper JSON = JsonMapper.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build();

    private SafetensorsHeader() {
    }

    /** The 8-byte little-endian length that starts the file, checked against the file's size. */
    static long checkLength(Path file, long headerLength, long fileSize) {
        if (headerLength < 2 || headerLength > MAX_HEADER_BYTES) {
            throw new CheckpointException(file + ": corrupt safetensors header: header length " + headerLength
                    + " is outside 2.." + MAX_HEADER_BYTES + " bytes (is this a safetensors file?)");
        }
        if (headerLength > fileSize - 8) {
            throw new CheckpointException(file + ": truncated safetensors file: header length " + headerLength
                    + " runs past the end of the " + fileSize + "-byte file");
        }
        return headerLength;
    }

    /** Tensors by name in header order; the {@code __metadata__} entry is checked but not returned. */
    static Map<String, TensorEntry> parse(Path file, byte[] header, long dataSize) {
        JsonNode root = readJson(file, header);
        Map<String, TensorEntry> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : root.properties()) {
            String name = e.getKey();
            if (METADATA_KEY.equals(name)) {
                checkMetadata(file, e.getValue());
                continue;
            }
            tensors.put(name, entry(file, name, e.getValue(), dataSize));
        }
        return Collections.unmodifiableMap(tensors);
    }

    private static JsonNode readJson(Path file, byte[] header) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(header)).toString();
        } catch (CharacterCodingException e) {
            throw new CheckpointException(file + ": corrupt safetensors header: not UTF-8 text");
        }
        JsonNode root;
        try {
            // Writers pad the header with spaces to an 8-byte boundary; JSON ignores trailing whitespace.
            root = JSON.readTree(text);
        } catch (JacksonException e) {
            throw new CheckpointException(file + ": corrupt safetensors header: not valid JSON (" + e.getOriginalMessage() + ")");
        }
        if (root == null || !root.isObject()) {
            throw new CheckpointException(file + ": corrupt safetensors header: expected a JSON object of tensors");
        }
        return root;
    }

    private static void checkMetadata(Path file, JsonNode metadata) {
        if (!metadata.isObject()) {
            throw new CheckpointException(file + ": corrupt safetensors header: field '" + METADATA_KEY + "' must be an object");
        }
    }

    private static TensorEntry entry(Path file, String name, JsonNode node, long dataSize) {
        if (!node.isObject()) throw bad(file, name, "entry", "must be an object");
        JsonNode dtypeNode = node.get("dtype");
        if (dtypeNode == null || !dtypeNode.isString()) throw bad(file, name, "dtype", "missing or not a string");
        String dtype = dtypeNode.asString();
        long[] shape = longs(file, name, "shape", node.get("shape"), -1);
        long[] offsets = longs(file, name, "data_offsets", node.get("data_offsets"), 2);
        long begin = offsets[0];
        long end = offsets[1];
        if (begin > end || end > dataSize) {
            throw bad(file, name, "data_offsets", "[" + begin + ", " + end + "] is not a range inside the "
                    + dataSize + "-byte data section" + (end > dataSize ? " (truncated file?)" : ""));
        }
        long elements = elements(file, name, shape);
        Dtype type = Dtype.byName(dtype);
        if (type != null) {
            long expected;
            try {
                expected = Math.multiplyExact(elements, (long) type.bytes());
            } catch (ArithmeticException e) {
                throw bad(file, name, "shape", Arrays.toString(shape) + " is too large");
            }
            if (end - begin != expected) {
                throw bad(file, name, "data_offsets", "[" + begin + ", " + end + "] spans " + (end - begin) + " bytes, but "
                        + dtype + " " + Arrays.toString(shape) + " needs " + expected);
            }
        }
        return new TensorEntry(name, dtype, shape, begin, end);
    }

    private static long elements(Path file, String name, long[] shape) {
        long n = 1;
        try {
            for (long d : shape) n = Math.multiplyExact(n, d);
        } catch (ArithmeticException e) {
            throw bad(file, name, "shape", Arrays.toString(shape) + " is too large");
        }
        return n;
    }

    /** A JSON array of non-negative integers, of length {@code count} unless it is -1. */
    private static long[] longs(Path file, String name, String field, JsonNode node, int count) {
        if (node == null || !node.isArray()) throw bad(file, name, field, "missing or not an array");
        if (count >= 0 && node.size() != count) throw bad(file, name, field, "must hold " + count + " integers, has " + node.size());
        long[] out = new long[node.size()];
        for (int i = 0; i < out.length; i++) {
            JsonNode v = node.get(i);
            if (!v.isIntegralNumber() || !v.canConvertToLong() || v.asLong() < 0) {
                throw bad(file, name, field, "element " + i + " (" + v + ") is not a non-negative integer");
            }
            out[i] = v.asLong();
        }
        return out;
    }

    private static CheckpointException bad(Path file, String tensor, String field, String problem) {
        return new CheckpointException(file + ": corrupt safetensors header: tensor '" + tensor + "', field '" + field
                + "': " + problem);
    }
}
