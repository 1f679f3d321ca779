package dev.podserve.engine;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.podserve.backend.ComputeBackend;
import dev.podserve.scheduler.SchedulerOutput;

/**
 * An {@link EngineListener} whose failures stay its own. The engine calls listeners in the middle
 * of finishing, aborting and stepping requests; an exception there would leave a response without
 * its terminal signal, or end the engine loop and with it every request. Metrics are not worth
 * that, so each call's exception is logged and dropped.
 */
final class IsolatedListener implements EngineListener {

    private static final Logger log = LoggerFactory.getLogger(IsolatedListener.class);

    private final EngineListener inner;

    private IsolatedListener(EngineListener inner) {
        this.inner = inner;
    }

    static EngineListener of(EngineListener listener) {
        return listener == EngineListener.NONE || listener instanceof IsolatedListener ? listener : new IsolatedListener(listener);
    }

    private static void failed(String callback, RuntimeException e) {
        log.error("engine listener failed in {}; serving goes on", callback, e);
    }

    @Override
    public void onModelReady(ServingModel model) {
        try {
            inner.onModelReady(model);
        } catch (RuntimeException e) {
            failed("onModelReady", e);
        }
    }

    @Override
    public void onStep(SchedulerOutput output, long forwardNanos) {
        try {
            inner.onStep(output, forwardNanos);
        } catch (RuntimeException e) {
            failed("onStep", e);
        }
    }

    @Override
    public void onStepProfile(SchedulerOutput output, ComputeBackend.StepProfile profile) {
        try {
            inner.onStepProfile(output, profile);
        } catch (RuntimeException e) {
            failed("onStepProfile", e);
        }
    }

    @Override
    public void onPreempted(int count) {
        try {
            inner.onPreempted(count);
        } catch (RuntimeException e) {
            failed("onPreempted", e);
        }
    }

    @Override
    public void onSampled(int fromDeviceArgmax, int drawnOnDevice, int withStep, int late) {
        try {
            inner.onSampled(fromDeviceArgmax, drawnOnDevice, withStep, late);
        } catch (RuntimeException e) {
            failed("onSampled", e);
        }
    }

    @Override
    public void onFinished(String requestId, FinishReason reason, int promptTokens, int completionTokens,
                           long queueNanos, long firstTokenNanos, long e2eNanos) {
        try {
            inner.onFinished(requestId, reason, promptTokens, completionTokens, queueNanos, firstTokenNanos, e2eNanos);
        } catch (RuntimeException e) {
            failed("onFinished", e);
        }
    }

    @Override
    public void onToken(String requestId, long sincePreviousNanos) {
        try {
            inner.onToken(requestId, sincePreviousNanos);
        } catch (RuntimeException e) {
            failed("onToken", e);
        }
    }
}
