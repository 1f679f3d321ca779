package dev.podserve.bench.serve;

import java.util.Locale;

/** The workloads {@code bench serve} generates. */
public enum WorkloadKind {
    /** Input and output lengths drawn uniformly from the given ranges. */
    RANDOM,
    /** The POD-Attention paper's offline case: 16K-token prompts, 1K-token outputs (divided by --scale). */
    LONG_PROMPT,
    /** Short chats mixed with long documents (the share of documents is --long-fraction), all divided by --scale. */
    MIXED;

    public static WorkloadKind parse(String text) {
        return valueOf(text.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
    }

    public String cliName() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
