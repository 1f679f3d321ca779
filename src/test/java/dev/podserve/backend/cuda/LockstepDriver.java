package dev.podserve.backend.cuda;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import dev.podserve.attention.HybridBatch;
import dev.podserve.backend.ComputeBackend;

/**
 * Runs several prompts through backends in lockstep hybrid steps: prompts are prefilled in chunks
 * while earlier-finished requests decode, each request's pages scattered over the pool, and every
 * sampled row's logits go to a callback that picks the next token for all backends alike.
 */
final class LockstepDriver {

    interface Step {
        /** Logits of one sampled row from each backend (same order as given); returns the next token. */
        int sampled(int request, int step, float[][] logitsPerBackend);
    }

    private static int currentRow;

    private LockstepDriver() {
    }

    /** Inside a {@link Step} callback: the row of the step's sampled rows being reported. */
    static int currentSampledRow() {
        return currentRow;
    }

    /** {@code requests} prompts of 1 to {@code maxLength} random ids below {@code vocab}. */
    static int[][] randomPrompts(java.util.Random rnd, int requests, int maxLength, int vocab) {
        int[][] prompts = new int[requests][];
        for (int r = 0; r < requests; r++) {
            prompts[r] = new int[1 + rnd.nextInt(maxLength)];
            for (int i = 0; i < prompts[r].length; i++) prompts[r][i] = rnd.nextInt(vocab);
        }
        return prompts;
    }

    static void run(List<ComputeBackend> backends, int[][] prompts, int newTokens, int chunk, int pageSize, long seed,
                    Step step) {
        int R = prompts.length;
        int maxLen = Arrays.stream(prompts).mapToInt(p -> p.length).max().orElse(0) + newTokens;
        int pagesPer = (maxLen + pageSize - 1) / pageSize;
        List<Integer> pool = new ArrayList<>();
        for (int p = 0; p < R * pagesPer; p++) pool.add(p);
        Collections.shuffle(pool, new Random(seed));
        int[][] tokens = new int[R][];
        int[] done = new int[R];
        int[] generated = new int[R];
        for (int r = 0; r < R; r++) tokens[r] = Arrays.copyOf(prompts[r], prompts[r].length + newTokens);
        for (int s = 0; ; s++) {
            List<Integer> prefill = new ArrayList<>();
            List<Integer> decode = new ArrayList<>();
            for (int r = 0; r < R; r++) {
                if (done[r] < prompts[r].length) {
                    prefill.add(r);
                } else if (generated[r] < newTokens && done[r] < prompts[r].length + generated[r]) {
                    decode.add(r);
                }
            }
            if (prefill.isEmpty() && decode.isEmpty()) return;
            List<Integer> order = new ArrayList<>(prefill);
            order.addAll(decode);
            int n = order.size();
            int[] qo = new int[n + 1];
            int[] kvIndptr = new int[n + 1];
            int[] last = new int[n];
            List<Integer> ids = new ArrayList<>();
            List<Integer> pos = new ArrayList<>();
            List<Integer> pages = new ArrayList<>();
            List<Integer> sample = new ArrayList<>();
            int[] rows = new int[n];
            for (int i = 0; i < n; i++) {
                int r = order.get(i);
                rows[i] = i < prefill.size() ? Math.min(chunk, prompts[r].length - done[r]) : 1;
                for (int j = 0; j < rows[i]; j++) {
                    ids.add(tokens[r][done[r] + j]);
                    pos.add(done[r] + j);
                }
                int kvLen = done[r] + rows[i];
                qo[i + 1] = qo[i] + rows[i];
                int np = (kvLen + pageSize - 1) / pageSize;
                for (int p = 0; p < np; p++) pages.add(pool.get(r * pagesPer + p));
                kvIndptr[i + 1] = pages.size();
                last[i] = kvLen - (np - 1) * pageSize;
                if (kvLen >= prompts[r].length) sample.add(i);
            }
            HybridBatch b = new HybridBatch(ints(ids), ints(pos), qo, kvIndptr, ints(pages), last, ints(sample), prefill.size(),
                    decode.size(), pageSize);
            List<float[][]> out = new ArrayList<>();
            for (ComputeBackend be : backends) out.add(be.forward(b));
            for (int i = 0; i < n; i++) done[order.get(i)] += rows[i];
            for (int si = 0; si < sample.size(); si++) {
                int r = order.get(sample.get(si));
                float[][] per = new float[backends.size()][];
                for (int k = 0; k < per.length; k++) per[k] = out.get(k)[si];
                currentRow = si;
                int next = step.sampled(r, s, per);
                if (generated[r] < newTokens) tokens[r][prompts[r].length + generated[r]++] = next;
            }
        }
    }

    private static int[] ints(List<Integer> l) {
        return l.stream().mapToInt(Integer::intValue).toArray();
    }
}
