package dev.podserve.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

/**
 * A HuggingFace-style model folder on disk: {@code config.json}, {@code tokenizer.json},
 * {@code tokenizer_config.json}, optionally {@code generation_config.json} and weights.
 * The embedded default lives in the jar's resources; the tokenizer library needs real files,
 * so it is copied out to a temporary folder first.
 */
public record ModelFolder(Path dir, String name, boolean embedded) {

    /** Classpath folder of the embedded default model. */
    public static final String EMBEDDED_RESOURCE = "models/podserve-tiny/";
    public static final String EMBEDDED_NAME = "podserve-tiny";
    private static final List<String> EMBEDDED_FILES =
            List.of("config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json");

    public static ModelFolder of(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException("podserve.model.path: " + dir + " is not a directory");
        }
        if (!Files.isRegularFile(dir.resolve("config.json"))) {
            throw new IllegalArgumentException("podserve.model.path: " + dir + " has no config.json");
        }
        Path fileName = dir.toAbsolutePath().normalize().getFileName();
        return new ModelFolder(dir, fileName == null ? dir.toString() : fileName.toString(), false);
    }

    public static ModelFolder embeddedDefault() {
        try {
            Path dir = Files.createTempDirectory("podserve-" + EMBEDDED_NAME + "-");
            ClassLoader loader = ModelFolder.class.getClassLoader();
            for (String file : EMBEDDED_FILES) {
                try (InputStream in = loader.getResourceAsStream(EMBEDDED_RESOURCE + file)) {
                    if (in == null) throw new IllegalStateException("embedded model is missing " + file);
                    Files.copy(in, dir.resolve(file), StandardCopyOption.REPLACE_EXISTING);
                }
                dir.resolve(file).toFile().deleteOnExit();
            }
            dir.toFile().deleteOnExit();
            return new ModelFolder(dir, EMBEDDED_NAME, true);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot unpack the embedded default model", e);
        }
    }

    public Path configJson() {
        return dir.resolve("config.json");
    }

    public Path generationConfigJson() {
        return dir.resolve("generation_config.json");
    }
}
