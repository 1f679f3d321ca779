package dev.podserve.attention;

/**
 * How a GPU runs the attention of a step that holds both prefill chunks and decodes
 * ({@code podserve.attention.mode}). Steps of one phase only always take that phase's kernel.
 */
public enum AttentionMode {
    /** The standalone prefill kernel, then the standalone decode kernel, on one stream. */
    SERIAL,
    /** The same two kernels on two streams, left to the hardware to overlap. */
    STREAMS,
    /** One fused POD-Attention kernel: prefill and decode CTAs scheduled onto the same SMs by ticket. */
    POD;

    /** From the configuration's spelling ({@code serial}, {@code streams}, {@code pod}). */
    public static AttentionMode of(String name) {
        return valueOf(name.trim().toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
    }
}
