package dev.podserve.engine;

import java.util.ArrayList;
import java.util.List;

import dev.podserve.sampling.SamplingState;
import dev.podserve.scheduler.Sequence;
import dev.podserve.tokenizer.IncrementalDetokenizer;

import reactor.core.publisher.Sinks;

/**
 * The engine's view of one request in flight: the scheduler's sequence, its sampler state (own
 * RNG, penalty counts), its detokenizer and stop matcher, and the sink its outputs go to.
 * Touched only by the engine thread.
 */
final class ActiveRequest {

    final GenerationRequest request;
    final Sequence sequence;
    final SamplingState sampling;
    final IncrementalDetokenizer detokenizer;
    final StopStringMatcher stopMatcher;
    final Sinks.Many<RequestOutput> sink;
    final long arrivalNanos;
    long firstScheduledNanos = -1;
    long firstTokenNanos = -1;
    long lastTokenNanos = -1;
    /**
     * Prompt log-probabilities scored so far, entry i for prompt position i + 1 (see
     * {@link RequestOutput#promptLogprobs}); null when the request did not ask. Recomputed rows
     * after a preemption find their positions here and are not scored twice.
     */
    final List<TokenLogprob> promptLogprobs;
    private boolean promptLogprobsSent;

    ActiveRequest(GenerationRequest request, Sequence sequence, SamplingState sampling,
                  IncrementalDetokenizer detokenizer, Sinks.Many<RequestOutput> sink, long arrivalNanos) {
        this.request = request;
        this.sequence = sequence;
        this.sampling = sampling;
        this.detokenizer = detokenizer;
        this.stopMatcher = new StopStringMatcher(request.params().stop(), request.params().includeStopStrInOutput());
        this.sink = sink;
        this.arrivalNanos = arrivalNanos;
        this.promptLogprobs = request.params().promptLogprobs() == null ? null : new ArrayList<>(sequence.numPromptTokens() - 1);
    }

    /** The prompt log-probabilities for this output: all of them on the first call, when asked; else null. */
    List<TokenLogprob> takePromptLogprobs() {
        if (promptLogprobs == null || promptLogprobsSent) return null;
        if (promptLogprobs.size() != sequence.numPromptTokens() - 1) {
            throw new IllegalStateException("request " + id() + " has " + promptLogprobs.size() + " of its "
                    + (sequence.numPromptTokens() - 1) + " prompt log-probabilities at its first output");
        }
        promptLogprobsSent = true;
        return List.copyOf(promptLogprobs);
    }

    String id() {
        return request.requestId();
    }
}
