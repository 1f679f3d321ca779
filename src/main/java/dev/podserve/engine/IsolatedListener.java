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

    /** Runs one callback; its exception is logged with the callback's name and goes no further. */
    private static void guarded(String callback, Runnable call) {
        try {
            call.run();
        } catch (RuntimeException e) {
            log.error("engine listener failed in {}; serving goes on", callback, e);
        }
    }

    @Override
    public void onModelReady(ServingModel model) {
        guarded("onModelReady", () -> inner.onModelReady(model));
    }

    @Override
    public void onStep(SchedulerOutput output, long forwardNanos) {
        guarded("onStep", () -> inner.onStep(output, forwardNanos));
    }

    @Override
    public void onStepProfile(SchedulerOutput output, ComputeBackend.StepProfile profile) {
        guarded("onStepProfile", () -> inner.onStepProfile(output, profile));
    }

    @Override
    public void onPreempted(int count) {
        guarded("onPreempted", () -> inner.onPreempted(count));
    }

    @Override
    public void onSampled(int fromDeviceArgmax, int drawnOnDevice, int withStep, int late) {
        guarded("onSampled", () -> inner.onSampled(fromDeviceArgmax, drawnOnDevice, withStep, late));
    }

    @Override
    public void onPromptsScored(int rows, long nanos) {
        guarded("onPromptsScored", () -> inner.onPromptsScored(rows, nanos));
    }

    @Override
    public void onTokenMasks(int rows, long workNanos, long waitNanos) {
        guarded("onTokenMasks", () -> inner.onTokenMasks(rows, workNanos, waitNanos));
    }

    @Override
    public void onFinished(String requestId, FinishReason reason, int promptTokens, int completionTokens,
                           long queueNanos, long firstTokenNanos, long e2eNanos) {
        guarded("onFinished",
                () -> inner.onFinished(requestId, reason, promptTokens, completionTokens, queueNanos, firstTokenNanos, e2eNanos));
    }

    @Override
    public void onToken(String requestId, long sincePreviousNanos) {
        guarded("onToken", () -> inner.onToken(requestId, sincePreviousNanos));
    }

    @Override
    public void onFirstToken(String requestId, long sinceArrivalNanos) {
        guarded("onFirstToken", () -> inner.onFirstToken(requestId, sinceArrivalNanos));
    }
}
