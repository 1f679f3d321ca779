package dev.podserve.engine;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import dev.podserve.attention.HybridBatch;
import dev.podserve.backend.ComputeBackend;
import dev.podserve.scheduler.ScheduledSequence;
import dev.podserve.scheduler.SchedulerOutput;

/**
 * Prompt log-probabilities, scored after each step. The query row at position p of a prompt
 * predicts prompt token p + 1: a chunk's last row predicts the next chunk's first token, which is
 * already known, and only the prompt's last row predicts a generated token (the sampled row, scored
 * by the sampler). So each step scores the rows of the chunks it ran for the requests that ask, with
 * scores the backend computes for those rows after the step ({@link ComputeBackend#scoreRows}).
 * Rows recomputed after a preemption find their positions scored already and are skipped. Used by
 * the engine thread only.
 */
final class PromptScoring {

    private final EngineListener listener;

    PromptScoring(EngineListener listener) {
        this.listener = listener;
    }

    /**
     * Scores this step's prompt rows of every request in {@code out} that asks for prompt
     * log-probabilities, appending to each request's list in position order.
     *
     * @param requestOf the engine's request of a scheduled sequence's id (null when gone)
     * @return requests whose scoring failed, with what failed (their lists are left incomplete)
     */
    Map<ActiveRequest, RuntimeException> score(ComputeBackend backend, SchedulerOutput out,
                                               Function<String, ActiveRequest> requestOf) {
        HybridBatch b = out.batch();
        List<ActiveRequest> owners = new ArrayList<>();
        // [rows]: the batch row, the prompt token it predicts, and how many alternatives its request wants.
        int[] rows = new int[b.numTokens()];
        int[] targets = new int[b.numTokens()];
        int count = 0;
        // Every request of the step, decodes too: a prompt chunk of one token is scheduled among the
        // single-row requests. Rows past the prompt (real decodes) predict no prompt token.
        for (int i = 0; i < b.numRequests(); i++) {
            ScheduledSequence s = out.scheduled().get(i);
            ActiveRequest r = requestOf.apply(s.sequence().requestId());
            if (r == null || r.promptLogprobs == null) continue;
            int promptLen = r.sequence.numPromptTokens();
            for (int t = b.qoIndptr()[i]; t < b.qoIndptr()[i + 1]; t++) {
                int p = b.positions()[t];
                // Position p's row predicts p + 1; positions below the list's size are scored already.
                if (p + 1 >= promptLen || p < r.promptLogprobs.size()) continue;
                rows[count] = t;
                targets[count] = r.sequence.tokenAt(p + 1);
                owners.add(r);
                count++;
            }
        }
        Map<ActiveRequest, RuntimeException> failed = new LinkedHashMap<>();
        if (count == 0) return failed;
        // One scoring for the step, at the most alternatives any of its requests asks for; each
        // request keeps its own count of them.
        int top = 0;
        for (ActiveRequest r : owners) top = Math.max(top, r.request.params().promptLogprobs());
        ComputeBackend.RowScore[] scores;
        long start = System.nanoTime();
        try {
            scores = backend.scoreRows(java.util.Arrays.copyOf(rows, count), java.util.Arrays.copyOf(targets, count), top);
            if (scores == null || scores.length != count) {
                throw new IllegalStateException("the backend scored " + (scores == null ? 0 : scores.length) + " of " + count + " rows");
            }
            listener.onPromptsScored(count, System.nanoTime() - start);
        } catch (RuntimeException e) {
            for (ActiveRequest r : owners) failed.putIfAbsent(r, e);
            return failed;
        }
        for (int k = 0; k < count; k++) {
            ActiveRequest r = owners.get(k);
            if (failed.containsKey(r)) continue;
            int position = b.positions()[rows[k]];
            ComputeBackend.RowScore s = scores[k];
            if (s != null && position == r.promptLogprobs.size()) {
                int n = Math.min(r.request.params().promptLogprobs(), s.topTokens().length);
                r.promptLogprobs.add(new TokenLogprob(targets[k], s.logprob(), java.util.Arrays.copyOf(s.topTokens(), n),
                        java.util.Arrays.copyOf(s.topLogprobs(), n), s.rank()));
            } else {
                // Scores are kept in position order with no gaps; anything else is a bug, and this
                // request's numbers must not go out misaligned.
                failed.put(r, s == null ? new IllegalStateException("the step's logits at prompt position " + position
                                + " hold a NaN or infinite value, or only -inf")
                        : new IllegalStateException("prompt position " + position + " scored out of order after "
                                + r.promptLogprobs.size()));
            }
        }
        return failed;
    }
}
