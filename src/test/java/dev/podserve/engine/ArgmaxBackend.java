package dev.podserve.engine;

import java.util.concurrent.atomic.AtomicInteger;

import dev.podserve.attention.HybridBatch;
import dev.podserve.backend.ComputeBackend;
import dev.podserve.backend.ForwardingBackend;
import dev.podserve.sampling.Sampler;

/**
 * A test backend that works as the CUDA backend does for sampling: it takes each row's argmax on the
 * "device" side, hands back only the rows asked for, fetches a withheld row on request, and counts
 * each kind.
 */
public final class ArgmaxBackend extends ForwardingBackend {
    public final AtomicInteger withheld = new AtomicInteger();
    public final AtomicInteger given = new AtomicInteger();
    public final AtomicInteger late = new AtomicInteger();

    public ArgmaxBackend(ComputeBackend delegate) {
        super(delegate);
    }

    @Override
    public StepOutput forwardForSampling(HybridBatch batch, boolean[] needLogits) {
        float[][] all = delegate.forward(batch);
        int[] argmax = new int[all.length];
        float[][] rows = new float[all.length][];
        for (int s = 0; s < all.length; s++) {
            argmax[s] = Sampler.argmax(all[s]);
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
        });
    }
}
