package dev.podserve.backend.cuda;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** The host C/C++ compiler for the tests that check the Java mirrors against the kernels' headers. */
final class HostCompiler {

    private HostCompiler() {
    }

    /** Whether {@code tool} (gcc, g++) runs here. */
    static boolean available(String tool) {
        try {
            return new ProcessBuilder(tool, "--version").redirectErrorStream(true).start().waitFor(30, TimeUnit.SECONDS);
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    /**
     * Runs a command and returns its output, failing the test when it fails or hangs.
     *
     * @param stdin a file to read from, or null (a file, not a pipe: a program that writes while it
     *              reads would otherwise block on a full pipe)
     */
    static String run(List<String> cmd, Path stdin) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(cmd)).redirectErrorStream(true);
        if (stdin != null) pb.redirectInput(stdin.toFile());
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) throw new AssertionError(cmd + " failed:\n" + out);
        return out;
    }
}
