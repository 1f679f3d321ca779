package dev.podserve.attention;

import java.util.Locale;
import java.util.Objects;

/**
 * The attention a step runs with, chosen by the scheduler for that step (see
 * {@link StepAttentionChooser}) and carried by its {@link HybridBatch}.
 *
 * @param mode   how a step with both phases runs them; a step of one phase takes that phase's
 *               standalone kernel whatever the mode
 * @param policy the fused kernel's SM policy; meaningful with {@link AttentionMode#POD} only, and
 *               never {@link SmPolicy#AUTO} once chosen by the chooser
 */
public record StepAttention(AttentionMode mode, SmPolicy policy) {

    /** The two standalone kernels, one after the other. */
    public static final StepAttention SERIAL = new StepAttention(AttentionMode.SERIAL, SmPolicy.PROPORTIONAL);

    public StepAttention {
        Objects.requireNonNull(mode, "mode");
        Objects.requireNonNull(policy, "policy");
    }

    /** The mode's metrics label: {@code serial}, {@code streams} or {@code pod}. */
    public String modeLabel() {
        return mode.name().toLowerCase(Locale.ROOT);
    }

    /** The policy's metrics label, {@code none} unless the mode is {@code pod}. */
    public String policyLabel() {
        return mode == AttentionMode.POD ? policy.label() : "none";
    }
}
