package dev.podserve.backend;

import dev.podserve.attention.HybridBatch;
import dev.podserve.model.ModelConfig;
import dev.podserve.sampling.DeviceDraw;

/**
 * A backend that passes every call to another: the base of decorators that watch or change some
 * calls (the circuit breaker counts forward passes) and leave the rest as they are.
 */
public abstract class ForwardingBackend implements ComputeBackend {

    protected final ComputeBackend delegate;

    protected ForwardingBackend(ComputeBackend delegate) {
        this.delegate = delegate;
    }

    @Override
    public float[][] forward(HybridBatch batch) {
        return delegate.forward(batch);
    }

    @Override
    public StepOutput forwardForSampling(HybridBatch batch, boolean[] needLogits) {
        return delegate.forwardForSampling(batch, needLogits);
    }

    @Override
    public StepOutput forwardForSampling(HybridBatch batch, boolean[] needLogits, DeviceDraw[] draws) {
        return delegate.forwardForSampling(batch, needLogits, draws);
    }

    @Override
    public boolean drawsOnDevice() {
        return delegate.drawsOnDevice();
    }

    @Override
    public boolean masksOnDevice() {
        return delegate.masksOnDevice();
    }

    @Override
    public StepOutput forwardForSampling(HybridBatch batch, boolean[] needLogits, DeviceDraw[] draws,
                                         java.util.function.Supplier<long[][]> masks) {
        return delegate.forwardForSampling(batch, needLogits, draws, masks);
    }

    @Override
    public void rowLogits(int[] rows, RowLogitsSink sink) {
        delegate.rowLogits(rows, sink);
    }

    @Override
    public RowScore[] scoreRows(int[] rows, int[] targets, int top) {
        return delegate.scoreRows(rows, targets, top);
    }

    @Override
    public boolean usesHostCores() {
        return delegate.usesHostCores();
    }

    @Override
    public StepProfile lastStepProfile() {
        return delegate.lastStepProfile();
    }

    @Override
    public ModelConfig config() {
        return delegate.config();
    }

    @Override
    public int numKvBlocks() {
        return delegate.numKvBlocks();
    }

    @Override
    public int pageSize() {
        return delegate.pageSize();
    }

    @Override
    public String describe() {
        return delegate.describe();
    }

    @Override
    public void close() {
        delegate.close();
    }
}
