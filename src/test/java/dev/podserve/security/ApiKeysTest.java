package dev.podserve.security;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.podserve.config.PodserveProperties;

/** Where keys come from, how a presented key is matched, and that the keys never show in a toString. */
class ApiKeysTest {

    @TempDir
    Path dir;

    private static PodserveProperties.Security security(List<String> keys, String file) {
        return new PodserveProperties.Security(keys, file, false, false, false, null, true);
    }

    @Test
    void keysFromTheListAndTheFileSkippingBlanksAndComments() throws IOException {
        Path file = dir.resolve("keys");
        Files.writeString(file, "# ops keys\n\n  from-file-1  \nfrom-file-2\n#from-file-3\n");
        List<String> keys = ApiKeys.keys(security(List.of(" listed ", ""), file.toString()));
        assertThat(keys).containsExactly("listed", "from-file-1", "from-file-2");

        ApiKeys k = new ApiKeys(keys);
        assertThat(k.enabled()).isTrue();
        assertThat(k.identify("listed")).hasValue("key-1");
        assertThat(k.identify("from-file-2")).hasValue("key-3");
        assertThat(k.identify("from-file-3")).isEmpty();
        assertThat(k.identify("listed ")).isEmpty();
        assertThat(k.identify("")).isEmpty();
        assertThat(new ApiKeys(List.of()).enabled()).isFalse();
    }

    @Test
    void aByteOrderMarkIsNotPartOfTheFirstKey() throws IOException {
        Path file = dir.resolve("bom");
        Files.write(file, "\uFEFFsk-first\r\nsk-second\r\n".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertThat(ApiKeys.keys(security(List.of(), file.toString()))).containsExactly("sk-first", "sk-second");
    }

    @Test
    void aMissingOrEmptyKeyFileStopsStartUpNamingTheKey() throws IOException {
        assertThatThrownBy(() -> ApiKeys.keys(security(List.of(), dir.resolve("absent").toString())))
                .hasMessageContaining("podserve.security.api-keys-file").hasMessageContaining("cannot be read");
        Path empty = Files.writeString(dir.resolve("empty"), "# nothing\n\n");
        assertThatThrownBy(() -> ApiKeys.keys(security(List.of(), empty.toString())))
                .hasMessageContaining("holds no key");
    }

    @Test
    void settingsNeverPrintTheKeys() {
        assertThat(security(List.of("super-secret-key"), null).toString()).doesNotContain("super-secret-key").contains("1 configured");
    }
}
