package dev.podserve.model.safetensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/** Hand-made safetensors bytes, for files no correct writer would produce. */
final class RawSafetensors {

    private RawSafetensors() {
    }

    /** A length field of {@code headerLength}, then {@code header}, then {@code dataBytes} zero bytes. */
    static Path write(Path file, long headerLength, byte[] header, int dataBytes) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(8 + header.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLength).put(header);
        Files.write(file, b.array());
        return file;
    }

    /** A well-formed frame around an arbitrary JSON header. */
    static Path write(Path file, String json, int dataBytes) throws IOException {
        byte[] header = json.getBytes(StandardCharsets.UTF_8);
        return write(file, header.length, header, dataBytes);
    }
}
