package dev.podserve.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class EngineListenerTest {

    /** Records every call with its listener's name. */
    private static EngineListener recording(String name, List<String> calls) {
        return new EngineListener() {
            @Override
            public void onStep(dev.podserve.scheduler.SchedulerOutput output, long forwardNanos) {
                calls.add(name + ":step:" + forwardNanos);
            }

            @Override
            public void onPreempted(int count) {
                calls.add(name + ":preempted:" + count);
            }

            @Override
            public void onFinished(String requestId, FinishReason reason, int promptTokens, int completionTokens,
                                   long queueNanos, long firstTokenNanos, long e2eNanos) {
                calls.add(name + ":finished:" + requestId + ":" + reason + ":" + promptTokens + ":" + completionTokens);
            }

            @Override
            public void onToken(String requestId, long sincePreviousNanos) {
                calls.add(name + ":token:" + requestId + ":" + sincePreviousNanos);
            }
        };
    }

    @Test
    void allCallsEveryListenerInOrder() {
        List<String> calls = new ArrayList<>();
        EngineListener both = EngineListener.all(List.of(recording("a", calls), recording("b", calls)));
        both.onStep(null, 7);
        both.onPreempted(2);
        both.onToken("r", 3);
        both.onFinished("r", FinishReason.LENGTH, 4, 5, 1, 2, 3);
        assertThat(calls).containsExactly("a:step:7", "b:step:7", "a:preempted:2", "b:preempted:2", "a:token:r:3", "b:token:r:3",
                "a:finished:r:LENGTH:4:5", "b:finished:r:LENGTH:4:5");
    }

    /**
     * A listener that throws in every callback: the engine logs it and serves on. Before, a throw
     * in onFinished left the response without its end (or, on an abort, ended the engine loop).
     */
    @Test
    void aThrowingListenerBreaksNeitherResponsesNorTheEngine() throws Exception {
        EngineListener broken = new EngineListener() {
            @Override
            public void onStep(dev.podserve.scheduler.SchedulerOutput output, long forwardNanos) {
                throw new IllegalStateException("metrics bug");
            }

            @Override
            public void onFinished(String requestId, FinishReason reason, int promptTokens, int completionTokens,
                                   long queueNanos, long firstTokenNanos, long e2eNanos) {
                throw new IllegalStateException("metrics bug");
            }

            @Override
            public void onToken(String requestId, long sincePreviousNanos) {
                throw new IllegalStateException("metrics bug");
            }
        };
        try (Engine engine = TinyModel.engine(64, 64, 4, 64, TinyModel.EOS, b -> b, broken)) {
            dev.podserve.sampling.SamplingParams p = dev.podserve.sampling.SamplingParams.builder()
                    .temperature(0).maxTokens(3).ignoreEos(true).build();
            for (String id : List.of("first", "second")) {
                List<RequestOutput> out = engine.submit(new GenerationRequest(id, new int[] {1, 2, 3}, p))
                        .collectList().block(java.time.Duration.ofSeconds(20));
                assertThat(out.get(out.size() - 1).finishReason()).isEqualTo(FinishReason.LENGTH);
            }
            // An abort reports too: the cancelled request ends and the engine still serves.
            reactor.core.Disposable cancelled = engine.submit(new GenerationRequest("cancelled", new int[] {1, 2, 3},
                    p.toBuilder().maxTokens(900).build())).subscribe();
            Thread.sleep(50);
            cancelled.dispose();
            List<RequestOutput> after = engine.submit(new GenerationRequest("after", new int[] {4, 5}, p))
                    .collectList().block(java.time.Duration.ofSeconds(20));
            assertThat(after.get(after.size() - 1).finishReason()).isEqualTo(FinishReason.LENGTH);
            assertThat(engine.isServing()).isTrue();
        }
    }

    @Test
    void oneListenerThatThrowsDoesNotSilenceTheOthers() {
        List<String> calls = new ArrayList<>();
        EngineListener throwing = new EngineListener() {
            @Override
            public void onPreempted(int count) {
                throw new IllegalStateException("metrics bug");
            }
        };
        EngineListener.all(List.of(throwing, recording("b", calls))).onPreempted(3);
        assertThat(calls).containsExactly("b:preempted:3");
    }

    @Test
    void noneOrOneNeedsNoWrapper() {
        assertThat(EngineListener.all(List.of())).isSameAs(EngineListener.NONE);
        EngineListener one = recording("x", new ArrayList<>());
        assertThat(EngineListener.all(List.of(one))).isSameAs(one);
    }
}
