package dev.podserve.engine;

import java.util.List;

import dev.podserve.backend.ComputeBackend;
import dev.podserve.scheduler.SchedulerOutput;

/**
 * Hooks the engine thread calls as it works, for metrics. Implementations must be cheap and must
 * not block: they run inside the step loop.
 */
public interface EngineListener {

    EngineListener NONE = new EngineListener() { };

    /** One listener that calls each of {@code listeners} in order (metrics, the step trace). */
    static EngineListener all(List<? extends EngineListener> listeners) {
        if (listeners.isEmpty()) return NONE;
        if (listeners.size() == 1) return listeners.get(0);
        // Each isolated, so one that throws does not keep the calls from the ones after it.
        List<EngineListener> each = listeners.stream().map(IsolatedListener::of).toList();
        return new EngineListener() {
            @Override
            public void onModelReady(ServingModel model) {
                for (EngineListener l : each) l.onModelReady(model);
            }

            @Override
            public void onStep(SchedulerOutput output, long forwardNanos) {
                for (EngineListener l : each) l.onStep(output, forwardNanos);
            }

            @Override
            public void onStepProfile(SchedulerOutput output, ComputeBackend.StepProfile profile) {
                for (EngineListener l : each) l.onStepProfile(output, profile);
            }

            @Override
            public void onPreempted(int count) {
                for (EngineListener l : each) l.onPreempted(count);
            }

            @Override
            public void onSampled(int fromDeviceArgmax, int drawnOnDevice, int withStep, int late) {
                for (EngineListener l : each) l.onSampled(fromDeviceArgmax, drawnOnDevice, withStep, late);
            }

            @Override
            public void onPromptsScored(int rows, long nanos) {
                for (EngineListener l : each) l.onPromptsScored(rows, nanos);
            }

            @Override
            public void onTokenMasks(int rows, long workNanos, long waitNanos) {
                for (EngineListener l : each) l.onTokenMasks(rows, workNanos, waitNanos);
            }

            @Override
            public void onFinished(String requestId, FinishReason reason, int promptTokens, int completionTokens,
                                   long queueNanos, long firstTokenNanos, long e2eNanos) {
                for (EngineListener l : each) {
                    l.onFinished(requestId, reason, promptTokens, completionTokens, queueNanos, firstTokenNanos, e2eNanos);
                }
            }

            @Override
            public void onToken(String requestId, long sincePreviousNanos) {
                for (EngineListener l : each) l.onToken(requestId, sincePreviousNanos);
            }

            @Override
            public void onFirstToken(String requestId, long sinceArrivalNanos) {
                for (EngineListener l : each) l.onFirstToken(requestId, sinceArrivalNanos);
            }
        };
    }

    /**
     * Called once on the loader thread when the model is loaded, before any request can reach the
     * engine, so a listener can label what it records with the served name.
     */
    default void onModelReady(ServingModel model) {
    }

    default void onStep(SchedulerOutput output, long forwardNanos) {
    }

    /** After {@link #onStep}, when the backend profiled the step's attention ({@code podserve.attention.profile}). */
    default void onStepProfile(SchedulerOutput output, ComputeBackend.StepProfile profile) {
    }

    default void onPreempted(int count) {
    }

    /**
     * After each step's sampling: how many of its rows took the backend's argmax, how many a draw the
     * backend made where the logits are, how many were sampled over logits that came with the step,
     * and how many over a row fetched after it (an argmax the request could not take, or a draw the
     * device handed back). Rows on the host cost a copy and a pass over the vocabulary.
     */
    default void onSampled(int fromDeviceArgmax, int drawnOnDevice, int withStep, int late) {
    }

    /**
     * After a step whose requests asked for prompt log-probabilities: how many prompt rows it scored
     * and how long that took (the LM head over those rows and their scoring, between this step and
     * the next, so it also delays every request sharing the step).
     */
    default void onPromptsScored(int rows, long nanos) {
    }

    /**
     * After a step with structured-output rows: how many masks it worked out, how long that took
     * from the start of the step's forward pass, and how long the engine thread waited for them (the
     * part the forward pass did not hide).
     */
    default void onTokenMasks(int rows, long workNanos, long waitNanos) {
    }

    /** Called once per request when it ends, whatever the reason (null reason: it failed). */
    default void onFinished(String requestId, FinishReason reason, int promptTokens, int completionTokens,
                            long queueNanos, long firstTokenNanos, long e2eNanos) {
    }

    default void onToken(String requestId, long sincePreviousNanos) {
    }

    /** When a request's first token comes (after its {@link #onToken}), with the time since its arrival. */
    default void onFirstToken(String requestId, long sinceArrivalNanos) {
    }
}
