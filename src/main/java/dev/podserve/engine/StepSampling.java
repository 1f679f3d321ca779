package dev.podserve.engine;

import java.util.List;

import dev.podserve.attention.HybridBatch;
import dev.podserve.backend.ComputeBackend;
import dev.podserve.sampling.DeviceDraw;
import dev.podserve.sampling.SampleResult;
import dev.podserve.sampling.Sampler;

/**
 * One step's sampling, on both sides of the backend's forward pass. Before it, {@link #plan} decides
 * for each row where its token will be picked: greedy rows whose processing only bans tokens from
 * the backend's argmax, rows sampled at a temperature by a draw where the logits are (when the
 * backend draws), every other row over its logits on the host. After it, {@link #sampleAll} turns
 * the step's output into a token per row, fetching the rows it turns out to need (a banned argmax, a
 * draw handed back) and telling the listener where each row was picked. Used by the engine thread only.
 */
final class StepSampling {

    private final Sampler sampler = new Sampler();
    private final EngineListener listener;

    StepSampling(EngineListener listener) {
        this.listener = listener;
    }

    /**
     * What the step asks of the backend for its sampled rows.
     *
     * @param needLogits [S]: rows copied to the host with the step
     * @param draws      [S]: rows drawn where the logits are (null entries: not drawn); null when the
     *                   backend draws nothing
     */
    record Plan(boolean[] needLogits, DeviceDraw[] draws, StepMasks masks, boolean masksOnDevice) {

        /**
         * Runs the step's forward pass with this plan's requests; where the backend masks on the
         * device, it is handed the structured-output masks once they are worked out (while the step runs).
         */
        ComputeBackend.StepOutput forward(ComputeBackend backend, HybridBatch batch) {
            if (masks != null && masksOnDevice) return backend.forwardForSampling(batch, needLogits, draws, masks::rowMasks);
            return draws != null ? backend.forwardForSampling(batch, needLogits, draws)
                    : backend.forwardForSampling(batch, needLogits);
        }
    }

    /**
     * Greedy rows whose processing can only ban tokens need no logits on the host where the backend
     * takes the argmax itself, unless that argmax turns out banned (sampleAll fetches those rows).
     * Rows sampled at a temperature are drawn where the logits are when the backend can: the draw
     * takes the request's uniform number now, and a row the device hands back is sampled on the host
     * with that same number. Null entries of {@code rows} (requests gone) need nothing.
     */
    static Plan plan(List<ActiveRequest> rows, boolean backendDraws) {
        return plan(rows, backendDraws, false);
    }

    /**
     * @param backendMasks the backend applies token masks (structured outputs, allowed_token_ids) where the logits are: a
     *                     masked row is then picked there too, by argmax or draw, with no row
     *                     copied back
     */
    static Plan plan(List<ActiveRequest> rows, boolean backendDraws, boolean backendMasks) {
        boolean[] needLogits = new boolean[rows.size()];
        DeviceDraw[] draws = backendDraws ? new DeviceDraw[rows.size()] : null;
        for (int i = 0; i < needLogits.length; i++) {
            ActiveRequest r = rows.get(i);
            if (r == null || Sampler.greedyFromArgmax(r.sampling)) continue;
            if (draws != null) draws[i] = Sampler.deviceDraw(r.sampling, backendMasks);
            needLogits[i] = draws == null || draws[i] == null;
        }
        return new Plan(needLogits, draws, StepMasks.start(rows), backendMasks);
    }

    /**
     * Rows sampled on the host (over the full logits) below which sampling stays on the engine
     * thread: forking costs more than it saves. Rows the backend already took the argmax of do not
     * count: each is one array read, and forking for them alone cost 0.2-0.3 ms a step.
     */
    private static final int PARALLEL_SAMPLING_ROWS = 4;

    /**
     * A {@link SampleResult} (or the exception sampling threw) for each row. Rows are independent
     * (each request has its own state and generator, the sampler's scratch space is per thread), so a
     * large batch is sampled on the common pool: one 128K-entry row costs tens of microseconds to a
     * millisecond, and a 64-row step would otherwise wait for all of them in turn.
     */
    Object[] sampleAll(List<ActiveRequest> rows, ComputeBackend.StepOutput result, Plan plan) {
        // The masks' states are read below on this thread and the pool's: joining publishes them.
        StepMasks masks = plan.masks();
        if (masks != null) {
            masks.await();
            listener.onTokenMasks(masks.count(), masks.workNanos(), masks.waitNanos());
        }
        boolean[] needLogits = plan.needLogits();
        DeviceDraw[] draws = plan.draws();
        Object[] out = new Object[rows.size()];
        int[] argmax = result.argmax();
        // The rows sampled on the host: all of them, or those asked for, or those withheld whose
        // argmax the request may not produce (an EOS below min_tokens) or whose draw the device handed
        // back, fetched here, on the thread that ran the step, as the backend requires.
        float[][] onHost = new float[rows.size()][];
        int numOnHost = 0;
        int late = 0;
        int live = 0;
        int drawn = 0;
        for (int i = 0; i < rows.size(); i++) {
            ActiveRequest r = rows.get(i);
            if (r == null) continue;
            live++;
            try {
                if (draws != null && draws[i] != null && result.drawnToken(i) >= 0) {
                    out[i] = SampleResult.withoutAlternatives(result.drawnToken(i), Float.NaN);
                    drawn++;
                    continue;
                }
                boolean fromArgmax = argmax != null && !needLogits[i] && (draws == null || draws[i] == null)
                        && (argmax[i] < 0 || !Sampler.argmaxBanned(r.sampling, argmax[i]));
                if (!fromArgmax) {
                    if (result.logits()[i] == null) late++;
                    onHost[i] = result.row(i);
                    numOnHost++;
                }
            } catch (RuntimeException e) {
                out[i] = e;
            }
        }
        listener.onSampled(live - numOnHost - drawn, drawn, numOnHost - late, late);
        java.util.function.IntConsumer one = i -> {
            ActiveRequest r = rows.get(i);
            if (r == null || out[i] != null) return;
            try {
                if (onHost[i] == null) {
                    if (argmax[i] < 0) throw new IllegalArgumentException("the step produced no number in this request's logits");
                    out[i] = SampleResult.withoutAlternatives(argmax[i], Float.NaN);
                } else if (draws != null && draws[i] != null) {
                    out[i] = sampler.sample(onHost[i], r.sampling, draws[i].uniform());
                } else {
                    out[i] = sampler.sample(onHost[i], r.sampling);
                }
            } catch (RuntimeException e) {
                out[i] = e;
            }
        };
        if (numOnHost < PARALLEL_SAMPLING_ROWS) {
            for (int i = 0; i < rows.size(); i++) one.accept(i);
        } else {
            java.util.stream.IntStream.range(0, rows.size()).parallel().forEach(one);
        }
        return out;
    }
}
