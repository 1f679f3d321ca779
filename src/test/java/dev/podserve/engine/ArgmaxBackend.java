package dev.podserve.engine;

import java.util.concurrent.atomic.AtomicInteger;

import dev.podserve.attention.HybridBatch;
import dev.podserve.backend.ComputeBackend;
import dev.podserve.backend.ForwardingBackend;
import dev.podserve.sampling.DeviceDraw;
import dev.podserve.sampling.DeviceDrawRule;
import dev.podserve.sampling.Sampler;

/**
 * A test backend that works as the CUDA backend does for sampling: it takes each row's argmax on the
 * "device" side, hands back only the rows asked for, fetches a withheld row on request, and counts
 * each kind. {@link #drawing} makes it draw temperature samples too (by the device's rule,
 * {@link DeviceDrawRule}), handing every n-th draw back to the host as the kernel does for a row it
 * cannot take. {@link #masking} makes it apply structured-output masks on its side too, before the
 * argmax and the draws, as the CUDA backend's ps_token_mask does.
 */
public final class ArgmaxBackend extends ForwardingBackend {
    public final AtomicInteger withheld = new AtomicInteger();
    public final AtomicInteger given = new AtomicInteger();
    public final AtomicInteger late = new AtomicInteger();
    public final AtomicInteger drawn = new AtomicInteger();
    public final AtomicInteger handedBack = new AtomicInteger();
    public final AtomicInteger masked = new AtomicInteger();

    /** 0: draws nothing; n: draws, and hands back every n-th draw (1: all of them). */
    private final int handBackEvery;
    private final boolean masks;
    private int draws;

    public ArgmaxBackend(ComputeBackend delegate) {
        this(delegate, 0, false);
    }

    private ArgmaxBackend(ComputeBackend delegate, int handBackEvery, boolean masks) {
        super(delegate);
        this.handBackEvery = handBackEvery;
        this.masks = masks;
    }

    /** Draws as {@link #drawing} does, and applies token masks on its side. */
    public static ArgmaxBackend masking(ComputeBackend delegate, int handBackEvery) {
        if (handBackEvery < 1) throw new IllegalArgumentException("handBackEvery must be at least 1");
        return new ArgmaxBackend(delegate, handBackEvery, true);
    }

    @Override
    public boolean masksOnDevice() {
        return masks;
    }

    @Override
    public StepOutput forwardForSampling(HybridBatch batch, boolean[] needLogits, DeviceDraw[] draws,
                                         java.util.function.Supplier<long[][]> rowMasks) {
        if (!masks) throw new IllegalStateException("asked to mask by a backend that said it does not");
        float[][] all = delegate.forward(batch);
        long[][] m = rowMasks.get();
        for (int s = 0; s < all.length; s++) {
            if (m[s] == null) continue;
            // The delegate may reuse its arrays: mask a copy, as the device masks its own buffer.
            all[s] = all[s].clone();
            for (int t = 0; t < all[s].length; t++) {
                if ((m[s][t >>> 6] & (1L << t)) == 0) all[s][t] = Float.NEGATIVE_INFINITY;
            }
            masked.incrementAndGet();
        }
        return step(all, needLogits, draws);
    }

    /** @param handBackEvery every n-th draw comes back as -1 (Integer.MAX_VALUE: nearly none) */
    public static ArgmaxBackend drawing(ComputeBackend delegate, int handBackEvery) {
        if (handBackEvery < 1) throw new IllegalArgumentException("handBackEvery must be at least 1");
        return new ArgmaxBackend(delegate, handBackEvery, false);
    }

    @Override
    public boolean drawsOnDevice() {
        return handBackEvery > 0;
    }

    @Override
    public StepOutput forwardForSampling(HybridBatch batch, boolean[] needLogits) {
        return step(delegate.forward(batch), needLogits, null);
    }

    @Override
    public StepOutput forwardForSampling(HybridBatch batch, boolean[] needLogits, DeviceDraw[] draws) {
        if (handBackEvery == 0) throw new IllegalStateException("asked to draw by a backend that said it does not");
        return step(delegate.forward(batch), needLogits, draws);
    }

    private StepOutput step(float[][] all, boolean[] needLogits, DeviceDraw[] drawsOfStep) {
        int[] argmax = new int[all.length];
        int[] tokens = drawsOfStep == null ? null : new int[all.length];
        float[][] rows = new float[all.length][];
        for (int s = 0; s < all.length; s++) {
            argmax[s] = Sampler.argmax(all[s]);
            if (tokens != null) {
                tokens[s] = -1;
                if (drawsOfStep[s] != null) {
                    if (++draws % handBackEvery == 0) {
                        handedBack.incrementAndGet();
                    } else {
                        tokens[s] = DeviceDrawRule.token(all[s], drawsOfStep[s]);
                        drawn.incrementAndGet();
                    }
                }
            }
            if (needLogits[s]) {
                rows[s] = all[s];
                given.incrementAndGet();
            } else {
                withheld.incrementAndGet();
            }
        }
        return new StepOutput(rows, argmax, s -> {
            late.incrementAndGet();
            return all[s];
        }, tokens);
    }
}
