package dev.podserve.metrics;

import org.springframework.stereotype.Component;

import dev.podserve.engine.EngineListener;
import dev.podserve.engine.FinishReason;
import dev.podserve.engine.ServingModel;
import dev.podserve.backend.ComputeBackend;
import dev.podserve.scheduler.SchedulerOutput;

import io.micrometer.core.instrument.MeterRegistry;

/**
 * Feeds the engine's events into vLLM-named meters. The meters carry the served model's name,
 * known only once the model has loaded; until then there is nothing to record, since no request
 * reaches the engine before it is ready.
 */
@Component
public class EngineMetrics implements EngineListener {

    private final MeterRegistry registry;
    private volatile ServingMeters meters;

    public EngineMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    @Override
    public void onModelReady(ServingModel model) {
        meters = new ServingMeters(registry, model.servedName(), model.engine());
    }

    @Override
    public void onStep(SchedulerOutput output, long forwardNanos) {
        ServingMeters m = meters;
        if (m != null) m.step(output, forwardNanos);
    }

    @Override
    public void onStepProfile(SchedulerOutput output, ComputeBackend.StepProfile profile) {
        ServingMeters m = meters;
        if (m != null) m.stepProfile(output, profile);
    }

    @Override
    public void onPreempted(int count) {
        ServingMeters m = meters;
        if (m != null) m.preempted(count);
    }

    @Override
    public void onSampled(int fromDeviceArgmax, int drawnOnDevice, int withStep, int late) {
        ServingMeters m = meters;
        if (m != null) m.sampled(fromDeviceArgmax, drawnOnDevice, withStep, late);
    }

    @Override
    public void onPromptsScored(int rows, long nanos) {
        ServingMeters m = meters;
        if (m != null) m.promptsScored(rows, nanos);
    }

    @Override
    public void onTokenMasks(int rows, long workNanos, long waitNanos) {
        ServingMeters m = meters;
        if (m != null) m.tokenMasks(rows, workNanos, waitNanos);
    }

    @Override
    public void onToken(String requestId, long sincePreviousNanos) {
        ServingMeters m = meters;
        if (m != null) m.token(sincePreviousNanos);
    }

    @Override
    public void onFirstToken(String requestId, long sinceArrivalNanos) {
        ServingMeters m = meters;
        if (m != null) m.firstToken(sinceArrivalNanos);
    }

    @Override
    public void onFinished(String requestId, FinishReason reason, int promptTokens, int completionTokens,
                           long queueNanos, long firstTokenNanos, long e2eNanos) {
        ServingMeters m = meters;
        if (m != null) m.finished(reason, promptTokens, completionTokens, queueNanos, e2eNanos);
    }

    /** Series the meter registry cannot hold under their vLLM names, in Prometheus text format. */
    String scrapeUnregistered() {
        ServingMeters m = meters;
        if (m == null) return "";
        StringBuilder out = new StringBuilder();
        m.appendUnregistered(out);
        return out.toString();
    }
}
