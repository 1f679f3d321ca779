package dev.podserve.backend;

import java.util.stream.IntStream;

import dev.podserve.sampling.SampleResult;
import dev.podserve.sampling.Sampler;
import dev.podserve.sampling.SamplingParams;

/**
 * Scoring rows on the host, over logits that {@link ComputeBackend#rowLogits} brings back: the
 * CPU backend's way (its logits are on the host already) and the slow reference of a device's own
 * scoring. Each row costs a softmax over the vocabulary (128K exps for Llama 3), so a group's rows
 * are spread over the cores.
 */
public final class HostRowScores {

    /** Most alternatives a row lists: the API's limit on logprobs. */
    public static final int MAX_TOP = SamplingParams.MAX_LOGPROBS;

    private HostRowScores() {
    }

    public static ComputeBackend.RowScore[] score(ComputeBackend backend, int[] rows, int[] targets, int top) {
        ComputeBackend.requireScoring(rows, targets, top, backend.config().vocabSize());
        Sampler sampler = new Sampler();
        ComputeBackend.RowScore[] out = new ComputeBackend.RowScore[rows.length];
        RuntimeException[] failed = new RuntimeException[1];
        backend.rowLogits(rows, (first, logits) -> {
            IntStream range = IntStream.range(0, logits.length);
            (logits.length > 1 ? range.parallel() : range).forEach(j -> {
                int k = first + j;
                try {
                    SampleResult s = sampler.score(logits[j], targets[k], top);
                    out[k] = new ComputeBackend.RowScore(s.logprob(), Sampler.rank(logits[j], targets[k]), s.topTokens(), s.topLogprobs());
                } catch (IllegalArgumentException e) {
                    // A row without a distribution (NaN, +inf, only -inf): null, its request alone fails.
                    out[k] = null;
                } catch (RuntimeException e) {
                    synchronized (failed) {
                        if (failed[0] == null) failed[0] = e;
                    }
                }
            });
        });
        if (failed[0] != null) throw failed[0];
        return out;
    }
}
