package dev.podserve.engine;

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

    ActiveRequest(GenerationRequest request, Sequence sequence, SamplingState sampling,
                  IncrementalDetokenizer detokenizer, Sinks.Many<RequestOutput> sink, long arrivalNanos) {
        this.request = request;
        this.sequence = sequence;
        this.sampling = sampling;
        this.detokenizer = detokenizer;
        this.stopMatcher = new StopStringMatcher(request.params().stop());
        this.sink = sink;
        this.arrivalNanos = arrivalNanos;
    }

    String id() {
        return request.requestId();
    }
}
