package dev.podserve.api.clients;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;

import dev.podserve.config.EngineHolder;

/**
 * The official OpenAI Node.js SDK (the {@code openai} npm package, pinned in
 * {@code src/test/node/openai-client}) against the server over a real port: models, chat whole and
 * streamed (also through the SDK's stream helper), text completions with n and streaming, logprobs,
 * the SDK's error classes with the offending field, and a stream the client aborts after which the
 * server goes on. The checks are in {@code client-checks.mjs}; this test installs the package once
 * into {@code target/} and runs them. Skipped where Node.js and npm are not installed, unless
 * {@code PODSERVE_NODE_REQUIRED=true} (as CI sets it): then that is a failure.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class OfficialNodeClientTest {

    private static final Path SOURCES = Path.of("src/test/node/openai-client");
    private static final Path WORK = Path.of("target/node-openai-client");

    @LocalServerPort
    int port;

    @Autowired
    EngineHolder holder;

    @BeforeAll
    void install() throws IOException, InterruptedException {
        boolean present = runs("node", "--version") && runs("npm", "--version");
        if (!present && Boolean.parseBoolean(System.getenv("PODSERVE_NODE_REQUIRED"))) {
            throw new AssertionError("Node.js and npm are not installed (PODSERVE_NODE_REQUIRED is set, so this fails instead of skipping)");
        }
        assumeTrue(present, "Node.js and npm are not installed");
        holder.await();
        Files.createDirectories(WORK);
        for (String f : List.of("package.json", "package-lock.json", "client-checks.mjs")) {
            Files.copy(SOURCES.resolve(f), WORK.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        // npm ci takes exactly the locked version; skipped when that version is installed already.
        Path installed = WORK.resolve("node_modules/openai/package.json");
        String locked = "\"version\": \"" + lockedVersion() + "\"";
        if (!Files.isRegularFile(installed) || !Files.readString(installed).contains(locked)) {
            Result npm = run(List.of("npm", "ci", "--no-audit", "--no-fund"), 300);
            assertThat(npm.exit()).as("npm ci:\n" + npm.output()).isZero();
        }
    }

    @Test
    void theOfficialNodeSdkWorksAgainstTheServer() throws IOException, InterruptedException {
        Result r = run(List.of("node", "client-checks.mjs", "http://localhost:" + port + "/v1", "podserve-tiny"), 240);
        assertThat(r.exit()).as(r.output()).isZero();
        assertThat(r.output()).contains("\"failures\":[]");
        java.util.regex.Matcher checks = java.util.regex.Pattern.compile("\"checks\":(\\d+)").matcher(r.output());
        assertThat(checks.find() && Integer.parseInt(checks.group(1)) >= 19).as("every check ran: " + r.output()).isTrue();
        // The aborted stream's request is gone from the engine, and its pages with it.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (holder.require().engine().stats().running() > 0 && System.nanoTime() < deadline) Thread.sleep(20);
        assertThat(holder.require().engine().stats().running()).isZero();
    }

    private static String lockedVersion() throws IOException {
        String lock = Files.readString(SOURCES.resolve("package-lock.json"));
        int at = lock.indexOf("\"node_modules/openai\"");
        int v = lock.indexOf("\"version\": \"", at) + "\"version\": \"".length();
        return lock.substring(v, lock.indexOf('"', v));
    }

    private record Result(int exit, String output) {
    }

    private static Result run(List<String> cmd, int timeoutSeconds) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(new ArrayList<>(cmd)).directory(WORK.toFile()).redirectErrorStream(true).start();
        // Read on another thread so a hung process still reaches the timeout below.
        StringBuilder out = new StringBuilder();
        Thread reader = new Thread(() -> {
            try {
                out.append(new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                out.append(e);
            }
        });
        reader.start();
        if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            reader.join(5000);
            throw new AssertionError(cmd + " did not finish in " + timeoutSeconds + " s:\n" + out);
        }
        reader.join(5000);
        return new Result(p.exitValue(), out.toString());
    }

    private static boolean runs(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }
}
