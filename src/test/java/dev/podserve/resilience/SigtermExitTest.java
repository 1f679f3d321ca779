package dev.podserve.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.http.HttpClient;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The real thing, in a server process of its own: SIGTERM while a stream runs lets the stream
 * finish (within the grace period), then the process exits with status 0.
 */
class SigtermExitTest {

    private static final Pattern PORT = Pattern.compile("Netty started on port (\\d+)");

    @TempDir
    Path dir;

    @Test
    void sigtermLetsTheRunningStreamFinishAndExitsZero() throws Exception {
        Path log = dir.resolve("server.log");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        // The application's classpath, without the tests'.
        String classpath = Arrays.stream(System.getProperty("java.class.path").split(File.pathSeparator))
                .filter(e -> !e.endsWith("test-classes")).collect(Collectors.joining(File.pathSeparator));
        Process server = new ProcessBuilder(java, "-Xmx512m", "-XX:+UseSerialGC",
                "--add-modules", "jdk.incubator.vector", "-cp", classpath, "dev.podserve.PodserveApplication",
                "--server.port=0", "--podserve.kv-cache.memory=16MB", "--podserve.cpu.threads=2",
                "--podserve.resilience.shutdown-grace-period=30s")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        try {
            int port = awaitPort(server, log);
            HttpTestClient client = new HttpTestClient(port);
            long until = System.nanoTime() + 60_000_000_000L;
            while (client.get("/health").statusCode() != 200) {
                assertThat(System.nanoTime()).as("healthy in time").isLessThan(until);
                Thread.sleep(20);
            }

            HttpResponse<java.io.InputStream> stream = HttpClient.newHttpClient().send(
                    client.post("/v1/chat/completions", HttpTestClient.chat("Keep talking.", 100, true)),
                    HttpResponse.BodyHandlers.ofInputStream());
            assertThat(stream.statusCode()).isEqualTo(200);
            StringBuilder body = new StringBuilder();
            try (BufferedReader in = new BufferedReader(new InputStreamReader(stream.body(), StandardCharsets.UTF_8))) {
                // The first content event: the request is running. Now the signal.
                String line;
                while ((line = in.readLine()) != null) {
                    body.append(line).append('\n');
                    if (line.contains("\"content\":\"") && !line.contains("\"content\":\"\"")) break;
                }
                server.destroy();  // SIGTERM
                while ((line = in.readLine()) != null) body.append(line).append('\n');
            }
            HttpTestClient.Stream s = HttpTestClient.parseStream(body.toString());
            assertThat(s.finishReason()).as("the stream ran to its end").isEqualTo("length");
            assertThat(s.completionTokens()).isEqualTo(100);
            assertThat(s.done()).isTrue();

            assertThat(server.waitFor(60, TimeUnit.SECONDS)).as("the process exits").isTrue();
            String out = Files.readString(log);
            assertThat(server.exitValue()).as("exit status; log:%n%s", out).isZero();
            assertThat(out).contains("admission closed; 1 running request(s)").doesNotContain("aborting");
        } finally {
            server.destroyForcibly();
        }
    }

    private static int awaitPort(Process server, Path log) throws IOException, InterruptedException {
        long until = System.nanoTime() + 60_000_000_000L;
        while (System.nanoTime() < until) {
            if (!server.isAlive()) throw new AssertionError("server exited early:\n" + Files.readString(log));
            if (Files.exists(log)) {
                Matcher m = PORT.matcher(Files.readString(log));
                if (m.find()) return Integer.parseInt(m.group(1));
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no port in:\n" + String.join("\n", List.of(Files.readString(log))));
    }
}
