package dev.podserve.security;

import org.springframework.http.server.PathContainer;
import org.springframework.http.server.RequestPath;

import dev.podserve.config.PodserveProperties;

/**
 * Which paths need no API key: {@code /health} and {@code /metrics}, unless configured otherwise;
 * everything else (the {@code /v1/**} API, {@code /tokenize}, {@code /detokenize}, and any route a
 * later change adds) does. Deny by default, so a new endpoint cannot be left open by mistake.
 *
 * <p>Paths are compared segment by segment on their decoded form, the form routing matches, so
 * {@code /%68ealth} or {@code /health;x=1} are what they look like to the router.
 */
public final class OpenPaths {

    private final boolean healthOpen;
    private final boolean metricsOpen;

    OpenPaths(PodserveProperties.Security security) {
        this.healthOpen = !security.protectHealth();
        this.metricsOpen = !security.protectMetrics();
    }

    boolean isOpen(RequestPath path) {
        String only = singleSegment(path.pathWithinApplication());
        if (only == null) return false;
        return (healthOpen && only.equals("health")) || (metricsOpen && only.equals("metrics"));
    }

    /** Whether the path is a monitoring one (never counted against a client's rate). */
    public static boolean isMonitoring(RequestPath path) {
        String only = singleSegment(path.pathWithinApplication());
        return "health".equals(only) || "metrics".equals(only);
    }

    /** The decoded segment of a one-segment path ({@code /x}), else null. */
    private static String singleSegment(PathContainer path) {
        String segment = null;
        for (PathContainer.Element e : path.elements()) {
            if (e instanceof PathContainer.PathSegment s) {
                if (segment != null) return null;
                segment = s.valueToMatch();
            }
        }
        return segment;
    }
}
