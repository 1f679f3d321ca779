package dev.podserve.security;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.stereotype.Component;

import dev.podserve.config.PodserveProperties;

/**
 * The accepted API keys, from {@code podserve.security.api-keys} and {@code api-keys-file}. Only
 * their SHA-256 digests are kept. A presented key is hashed and compared with every digest in
 * constant time, all of them every time, so neither how much of a key matched nor which key it
 * was shows in the time the check takes. Keys are never logged, nor is anything derived from them
 * but their count and position.
 */
@Component
public class ApiKeys {

    private static final Logger log = LoggerFactory.getLogger(ApiKeys.class);

    private final byte[][] digests;

    @Autowired
    public ApiKeys(PodserveProperties props) {
        this(keys(props.security()));
    }

    ApiKeys(List<String> keys) {
        digests = new byte[keys.size()][];
        for (int i = 0; i < digests.length; i++) digests[i] = sha256(keys.get(i));
        if (digests.length > 0) {
            log.info("API keys required on the API ({} key(s) configured)", digests.length);
        }
    }

    /** Whether any key is configured; without one, the API is open. */
    public boolean enabled() {
        return digests.length > 0;
    }

    /** The identity of the key presented ({@code key-N}, N its 1-based position), if it is one of ours. */
    public Optional<String> identify(String presented) {
        byte[] digest = sha256(presented);
        int match = -1;
        for (int i = 0; i < digests.length; i++) {
            // No early exit: every key is compared whatever the outcome.
            boolean same = MessageDigest.isEqual(digests[i], digest);
            match = same ? i : match;
        }
        return match < 0 ? Optional.empty() : Optional.of("key-" + (match + 1));
    }

    static List<String> keys(PodserveProperties.Security security) {
        List<String> keys = new ArrayList<>();
        for (String k : security.apiKeys()) {
            if (k != null && !k.isBlank()) keys.add(k.strip());
        }
        String file = security.apiKeysFile();
        if (file != null && !file.isBlank()) {
            List<String> lines;
            try {
                lines = Files.readAllLines(Path.of(file), StandardCharsets.UTF_8);
            } catch (IOException e) {
                throw new IllegalArgumentException("podserve.security.api-keys-file=" + file + " cannot be read: "
                        + e.getClass().getSimpleName(), e);
            }
            // An editor that saves UTF-8 with a byte-order mark puts U+FEFF before the first key, which
            // strip() keeps: that key would never match.
            if (!lines.isEmpty() && lines.get(0).startsWith("\uFEFF")) lines.set(0, lines.get(0).substring(1));
            int before = keys.size();
            for (String line : lines) {
                String k = line.strip();
                if (!k.isEmpty() && !k.startsWith("#")) keys.add(k);
            }
            if (keys.size() == before) {
                throw new IllegalArgumentException("podserve.security.api-keys-file=" + file + " holds no key");
            }
        }
        return keys;
    }

    private static byte[] sha256(String s) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
