package dev.podserve.backend.cuda;

import org.bytedeco.cuda.cudart.CUevent_st;

import dev.podserve.backend.ComputeBackend.StepProfile;

/**
 * Times each layer's attention launches with a pair of CUDA events ({@code podserve.attention.profile}),
 * so a step's attention share can be read after it. Only steps launched kernel by kernel are timed:
 * a graph replay has no place to record the events between its kernels.
 *
 * <p>The events are created when profiling is first switched on and kept until {@link #close}; the
 * pairs cost a few microseconds a step, which is why profiling is off by default.
 */
final class AttentionProfiler {

    private final CudaContext ctx;
    /** [numLayers][2]: recorded before and after a layer's attention launches; a row is null until profiling is on. */
    private final CUevent_st[][] events;
    private volatile boolean enabled;
    /** Whether the step being enqueued records the events (set by {@link #arm}). */
    private boolean armed;

    AttentionProfiler(CudaContext ctx, int numLayers) {
        this.ctx = ctx;
        this.events = new CUevent_st[numLayers][];
    }

    /** Called with the context current, from the backend's lock. */
    void enable(boolean on) {
        if (on) {
            for (int l = 0; l < events.length; l++) {
                if (events[l] == null) events[l] = new CUevent_st[] {ctx.newEvent(), ctx.newEvent()};
            }
        }
        enabled = on;
    }

    /** Decides, before its launches, whether this step is timed: only eager steps are. */
    void arm(boolean eagerStep) {
        armed = eagerStep && enabled;
    }

    void beforeAttention(int layer) {
        if (armed) ctx.record(events[layer][0]);
    }

    void afterAttention(int layer) {
        if (armed) ctx.record(events[layer][1]);
    }

    /** After the step's synchronisation: the step's GPU time with its attention's sum, or null when it was not timed. */
    StepProfile read(CUevent_st stepStart, CUevent_st stepEnd) {
        if (!armed) return null;
        double attention = 0;
        for (CUevent_st[] e : events) attention += ctx.elapsedMillis(e[0], e[1]);
        return new StepProfile(ctx.elapsedMillis(stepStart, stepEnd), attention);
    }

    void close() {
        for (CUevent_st[] e : events) {
            if (e != null) {
                ctx.destroyEvent(e[0]);
                ctx.destroyEvent(e[1]);
            }
        }
    }
}
