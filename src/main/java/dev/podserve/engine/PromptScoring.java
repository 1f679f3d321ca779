package dev.podserve.engine;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.IntStream;

import dev.podserve.attention.HybridBatch;
import dev.podserve.backend.ComputeBackend;
import dev.podserve.sampling.SampleResult;
import dev.podserve.sampling.Sampler;
import dev.podserve.scheduler.ScheduledSequence;
import dev.podserve.scheduler.SchedulerOutput;

/**
 * Prompt log-probabilities, scored after each step. The query row at position p of a prompt
 * predicts prompt token p + 1: a chunk's last row predicts the next chunk's first token, which is
 * already known, and only the prompt's last row predicts a generated token (the sampled row, scored
 * by the sampler). So each step scores the rows of the chunks it ran for the requests that ask, with
 * logits the backend computes for those rows after the step ({@link ComputeBackend#rowLogits}).
 * Rows recomputed after a preemption find their positions scored already and are skipped. Used by
 * the engine thread only.
 */
final class PromptScoring {

    private final Sampler sampler = new Sampler();

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
        Object[] results = new Object[count];
        int[] ranks = new int[count];
        try {
            backend.rowLogits(java.util.Arrays.copyOf(rows, count), (first, logits) -> {
                // A row costs a softmax over the vocabulary (128K exps for Llama 3): spread the group
                // over the cores, which wait for the next step anyway.
                IntStream range = IntStream.range(0, logits.length);
                (logits.length > 1 ? range.parallel() : range).forEach(j -> {
                    int k = first + j;
                    try {
                        results[k] = sampler.score(logits[j], targets[k], owners.get(k).request.params().promptLogprobs());
                        ranks[k] = Sampler.rank(logits[j], targets[k]);
                    } catch (RuntimeException e) {
                        results[k] = e;
                    }
                });
            });
        } catch (RuntimeException e) {
            for (ActiveRequest r : owners) failed.putIfAbsent(r, e);
            return failed;
        }
        for (int k = 0; k < count; k++) {
            ActiveRequest r = owners.get(k);
            if (failed.containsKey(r)) continue;
            int position = b.positions()[rows[k]];
            if (results[k] instanceof SampleResult s && position == r.promptLogprobs.size()) {
                r.promptLogprobs.add(new TokenLogprob(s.token(), s.logprob(), s.topTokens(), s.topLogprobs(), ranks[k]));
            } else {
                // Scores are kept in position order with no gaps; anything else is a bug, and this
                // request's numbers must not go out misaligned.
                failed.put(r, results[k] instanceof RuntimeException e ? e : results[k] == null
                        ? new IllegalStateException("the backend gave no logits for batch row " + rows[k])
                        : new IllegalStateException("prompt position " + position + " scored out of order after "
                                + r.promptLogprobs.size()));
            }
        }
        return failed;
    }
}
