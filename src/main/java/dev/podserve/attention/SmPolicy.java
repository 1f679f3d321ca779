package dev.podserve.attention;

import java.util.Locale;

/**
 * How the fused POD-Attention kernel hands an SM's CTA slots to prefill and decode work
 * ({@code podserve.attention.sm-policy}). The codes are pod_params.h's PS_POD_POLICY_* and
 * attention_plan.h's kPodAuto, passed to the kernel planner as they are.
 */
public enum SmPolicy {
    /** Per SM, one prefill ticket then floor(D/P) decode tickets (or the reverse), D and P the phases' CTAs. */
    PROPORTIONAL(0),
    /** Per SM, tickets alternate between the phases. */
    FIFTY_FIFTY(1),
    /** SMs below a share of the SM count take prefill first, the others decode first. */
    STATIC(2),
    /** Chosen per step from the batch's shape: see {@link StepAttentionChooser}. */
    AUTO(3);

    private final int code;

    SmPolicy(int code) {
        this.code = code;
    }

    public int code() {
        return code;
    }

    /** From {@link #code()}. */
    public static SmPolicy ofCode(int code) {
        for (SmPolicy p : values()) {
            if (p.code == code) return p;
        }
        throw new IllegalArgumentException("no SM policy with code " + code);
    }

    /** From the configuration's spelling ({@code auto}, {@code proportional}, {@code fifty-fifty}, {@code static}). */
    public static SmPolicy of(String name) {
        return valueOf(name.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
    }

    /** The configuration's spelling, also the metrics label. */
    public String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
