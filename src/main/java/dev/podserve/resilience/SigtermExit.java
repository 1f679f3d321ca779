package dev.podserve.resilience;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import sun.misc.Signal;

/**
 * Makes SIGTERM (docker stop, Kubernetes) a clean exit with status 0. The JVM's own handling of it
 * runs the shutdown hooks, so the application context closes gracefully either way, but then exits
 * with 143, which process supervisors report as a failure. Here the signal starts an ordinary
 * {@code System.exit(0)} instead, which runs the same hooks ({@link GracefulShutdown} included).
 * Installed by {@code main} only, never in tests.
 */
public final class SigtermExit {

    private static final Logger log = LoggerFactory.getLogger(SigtermExit.class);

    private SigtermExit() {
    }

    public static void install() {
        try {
            Signal.handle(new Signal("TERM"), signal -> {
                log.info("SIGTERM: shutting down gracefully");
                // Not on the signal thread: exit blocks until every shutdown hook has run.
                Thread exit = new Thread(() -> System.exit(0), "podserve-sigterm");
                exit.start();
            });
        } catch (IllegalArgumentException | UnsupportedOperationException e) {
            log.warn("SIGTERM handler not installed ({}); the JVM's default applies", e.toString());
        }
    }
}
