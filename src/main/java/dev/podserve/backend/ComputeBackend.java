package dev.podserve.backend;

import java.util.function.IntFunction;
import java.util.function.Supplier;

import dev.podserve.attention.HybridBatch;
import dev.podserve.model.ModelConfig;
import dev.podserve.sampling.DeviceDraw;

/**
 * Runs the model over one hybrid batch. The backend owns the KV cache storage (numKvBlocks pages
 * of pageSize tokens); the scheduler owns which pages belong to whom and hands them over in the
 * batch's CSR arrays.
 */
public interface ComputeBackend extends AutoCloseable {

    ModelConfig config();

    /** Pages of KV storage this backend holds. */
    int numKvBlocks();

    int pageSize();

    /** A short name for logs and metadata, e.g. "cpu (vector, 2 threads)". */
    String describe();

    /**
     * Appends this step's K/V to the cache and returns the logits of the last query row of each of
     * {@code batch.sampleRequests()}, in that order: {@code float[S][vocabSize]}. The rows may be
     * the backend's own buffers, valid until its next {@code forward} or {@link #rowLogits}: callers
     * consume a step's logits before running the next step or asking for other rows.
     */
    float[][] forward(HybridBatch batch);

    /**
     * One step's output for sampling.
     *
     * @param logits  row s as {@link #forward} gives it; null where the caller said it needs none and
     *                {@code argmax} is given
     * @param argmax  the index of each row's largest logit (lowest index among equal maxima, NaN never
     *                wins, -1 for a row with no number), computed where the logits are; or null when
     *                the backend does not compute it and every row of {@code logits} is there
     * @param lateRow row s fetched after all, for a row withheld from {@code logits} that the caller
     *                turns out to need (its argmax was a token the request may not produce, or the
     *                device handed its draw back); valid until the backend's next step, and only on
     *                the thread that ran this one. Null where no row is ever withheld.
     * @param drawn   [S]: for each row given a {@link DeviceDraw}, the token drawn where the logits
     *                are, or -1 where the backend hands the draw back to the host (which then samples
     *                the row with the draw's uniform number); -1 for rows without a draw. Null when
     *                the backend drew nothing.
     */
    record StepOutput(float[][] logits, int[] argmax, IntFunction<float[]> lateRow, int[] drawn) {

        public StepOutput(float[][] logits, int[] argmax) {
            this(logits, argmax, null, null);
        }

        public StepOutput(float[][] logits, int[] argmax, IntFunction<float[]> lateRow) {
            this(logits, argmax, lateRow, null);
        }

        /** The token the backend drew for row s, or -1 (none drawn, or handed back). */
        public int drawnToken(int s) {
            return drawn == null ? -1 : drawn[s];
        }

        /** Row s: the one returned, or else fetched now through {@code lateRow}. */
        public float[] row(int s) {
            if (logits[s] != null) return logits[s];
            if (lateRow == null) throw new IllegalStateException("logits row " + s + " was withheld and cannot be fetched");
            return lateRow.apply(s);
        }
    }

    /**
     * As {@link #forward}, for a caller that samples some rows greedily: a backend whose logits live
     * elsewhere (a GPU) may compute each row's argmax there and skip copying the rows whose
     * {@code needLogits[s]} is false. This default computes no argmax and returns every row.
     *
     * @param needLogits [S], one flag per row of {@code batch.sampleRequests()}
     */
    default StepOutput forwardForSampling(HybridBatch batch, boolean[] needLogits) {
        return new StepOutput(forward(batch), null);
    }

    /**
     * Whether {@link #forwardForSampling(HybridBatch, boolean[], DeviceDraw[])} draws temperature
     * samples where the logits are. Callers take a request's {@link DeviceDraw} (and with it the
     * step's uniform number) only for a backend that does.
     */
    default boolean drawsOnDevice() {
        return false;
    }

    /**
     * As {@link #forwardForSampling(HybridBatch, boolean[])}, and row s, where {@code draws[s]} is not
     * null, is sampled by that draw where the logits are ({@link StepOutput#drawn}); such a row's
     * logits are copied only if {@code needLogits[s]} asks. This default draws nothing: every row with
     * a draw comes back whole, for the host to sample with the draw's uniform number.
     *
     * @param draws [S], null entries for rows sampled otherwise
     */
    default StepOutput forwardForSampling(HybridBatch batch, boolean[] needLogits, DeviceDraw[] draws) {
        boolean[] need = needLogits.clone();
        for (int s = 0; s < need.length; s++) need[s] |= draws[s] != null;
        return forwardForSampling(batch, need);
    }

    /**
     * Whether {@link #forwardForSampling(HybridBatch, boolean[], DeviceDraw[], Supplier)} applies
     * token masks (structured outputs, allowed_token_ids) where the logits are, so that its argmax and draws only ever
     * give allowed tokens. Callers draw a constrained row on the device only for a backend that does.
     */
    default boolean masksOnDevice() {
        return false;
    }

    /**
     * As {@link #forwardForSampling(HybridBatch, boolean[], DeviceDraw[])}, with token masks: where
     * {@link #masksOnDevice()}, every entry of row s whose bit in {@code masks.get()[s]}
     * ([ceil(vocab / 64)] words, token t at bit t % 64 of word t / 64) is clear is -inf before the
     * argmax and the draws, and in any row copied back. The supplier is asked once, after the step's
     * work is queued, so the caller may still be working the masks out; it returns [S] masks, null
     * entries for rows without one. This default ignores the masks: the host applies them.
     *
     * @param draws null: no draws
     */
    default StepOutput forwardForSampling(HybridBatch batch, boolean[] needLogits, DeviceDraw[] draws, Supplier<long[][]> masks) {
        return draws != null ? forwardForSampling(batch, needLogits, draws) : forwardForSampling(batch, needLogits);
    }

    /**
     * Logits of any query rows of the step that just ran, for prompt log-probabilities: rows inside a
     * prefill chunk, for which the step itself computes none. The final norm and the LM head run now,
     * over the hidden states the step left behind, a group of rows at a time. Call it after the step,
     * on the thread that ran it and before the next one; it ends that step's {@link StepOutput#lateRow}
     * fetches (the groups may reuse the step's logits buffer).
     *
     * @param rows ascending indices into the step's {@code tokenIds}
     * @param sink given each group in order
     * @throws UnsupportedOperationException a backend that cannot (the default)
     */
    default void rowLogits(int[] rows, RowLogitsSink sink) {
        throw new UnsupportedOperationException(describe() + " does not compute logits of prompt rows");
    }

    /**
     * Scores chosen rows of the step that just ran (prompt log-probabilities): for {@code rows[i]},
     * the log-softmax of its logits at {@code targets[i]}, that token's rank, and the {@code top}
     * likeliest tokens (higher logit first, then lower id), as {@link dev.podserve.sampling.Sampler#score}
     * and {@link dev.podserve.sampling.Sampler#rank} compute them over the raw row. Same timing rules
     * as {@link #rowLogits}. This default takes {@link #rowLogits} to the host ({@link HostRowScores});
     * a backend whose logits live on a device scores them there and copies back only the results.
     *
     * @param top at most {@link HostRowScores#MAX_TOP}
     * @return one score per row, in order; null for a row without a distribution (a NaN or +inf
     *         logit, or only -inf), so that only its own request fails
     */
    default RowScore[] scoreRows(int[] rows, int[] targets, int top) {
        return HostRowScores.score(this, rows, targets, top);
    }

    /**
     * One scored row.
     *
     * @param rank        how many tokens have at least the target's logit, itself included
     * @param topTokens   the likeliest ids, best first; min(top, vocab) of them
     * @param topLogprobs their log-probabilities
     */
    record RowScore(float logprob, int rank, int[] topTokens, float[] topLogprobs) {
    }

    /**
     * {@link #rowLogits}' and {@link #scoreRows}' rows: ascending rows of a finished step of
     * {@code stepTokens} query rows (-1 when there is none to read).
     */
    static void requireRowsOfStep(int[] rows, int stepTokens) {
        if (stepTokens < 0) throw new IllegalStateException("no finished step to take row logits from");
        for (int i = 0; i < rows.length; i++) {
            if (rows[i] < 0 || rows[i] >= stepTokens || (i > 0 && rows[i] <= rows[i - 1])) {
                throw new IllegalArgumentException("row " + rows[i] + " is not an ascending row of the last step's " + stepTokens);
            }
        }
    }

    /** {@link #scoreRows}' other arguments: a target in the vocabulary per row, and {@code top} in range. */
    static void requireScoring(int[] rows, int[] targets, int top, int vocab) {
        if (rows.length != targets.length) throw new IllegalArgumentException(rows.length + " rows and " + targets.length + " targets");
        if (top < 0 || top > HostRowScores.MAX_TOP) throw new IllegalArgumentException("top " + top + " is outside 0.." + HostRowScores.MAX_TOP);
        for (int t : targets) {
            if (t < 0 || t >= vocab) throw new IllegalArgumentException("target " + t + " is outside the vocabulary");
        }
    }

    /** Receives {@link #rowLogits} a group at a time. */
    @FunctionalInterface
    interface RowLogitsSink {
        /**
         * @param first  index into {@code rows} of the group's first row
         * @param logits [count][vocabSize], the logits of {@code rows[first .. first+count)}; the arrays
         *               may be the backend's own, valid only during this call
         */
        void accept(int first, float[][] logits);
    }

    /**
     * Whether {@link #forward} computes on the host's cores (the CPU backend) rather than waiting on
     * a device. Work moved off the engine thread to run beside a step (building response chunks)
     * helps only where the step leaves those cores idle; beside a CPU forward it takes cores from it.
     */
    default boolean usesHostCores() {
        return true;
    }

    /**
     * GPU time of the last step and of its attention kernels, when the backend profiles attention
     * (the CUDA backend with {@code podserve.attention.profile}, steps launched kernel by kernel);
     * null otherwise. Read on the thread that ran the step, right after it.
     */
    default StepProfile lastStepProfile() {
        return null;
    }

    /** @param gpuMillis the step from its first to its last launch; attentionMillis: its attention launches, all layers */
    record StepProfile(double gpuMillis, double attentionMillis) {
    }

    @Override
    default void close() {
    }
}
