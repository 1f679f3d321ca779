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

    @Test
    void noneOrOneNeedsNoWrapper() {
        assertThat(EngineListener.all(List.of())).isSameAs(EngineListener.NONE);
        EngineListener one = recording("x", new ArrayList<>());
        assertThat(EngineListener.all(List.of(one))).isSameAs(one);
    }
}
