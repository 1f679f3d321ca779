package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.junit.jupiter.api.Test;
import org.springframework.mock.http.server.reactive.MockServerHttpRequest;
import org.springframework.mock.web.server.MockServerWebExchange;

import dev.podserve.backend.ComputeBackend;
import dev.podserve.backend.ForwardingBackend;
import dev.podserve.engine.Deadlines;
import dev.podserve.engine.Engine;
import dev.podserve.engine.TinyModel;
import dev.podserve.sampling.SamplingParams;

import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;

/** Where a response's work on the engine's outputs runs: beside the steps on a GPU, inline on the CPU backend. */
class ChoicesDeliveryTest {

    /** The tiny CPU model, reporting that its forward pass leaves the host's cores free, as the CUDA backend does. */
    private static final class DeviceLike extends ForwardingBackend {
        DeviceLike(ComputeBackend delegate) {
            super(delegate);
        }

        @Override
        public boolean usesHostCores() {
            return false;
        }
    }

    private static MockServerWebExchange exchange() {
        return MockServerWebExchange.from(MockServerHttpRequest.post("/v1/completions"));
    }

    private static Set<String> threadsSeeingOutputs(Engine engine, Scheduler deliverOn) {
        List<Choices.Choice> choices = Choices.plan("cmpl-t", List.of(new int[] {1, 2, 3}, new int[] {4, 5}), 2,
                SamplingParams.builder().temperature(0).maxTokens(12).ignoreEos(true).build(), true, null, null, null);
        Choices.validate(engine, choices);
        Set<String> threads = ConcurrentHashMap.newKeySet();
        long events = Choices.run(engine, choices, Deadlines.NONE, deliverOn)
                .doOnNext(e -> threads.add(Thread.currentThread().getName()))
                .count().block(Duration.ofSeconds(60));
        assertThat(events).as("every choice's outputs arrive").isGreaterThanOrEqualTo(4);
        return threads;
    }

    @Test
    void onADeviceTheOutputsLeaveTheEngineThread() {
        try (Engine engine = TinyModel.engine(512, 256, 32, 64, DeviceLike::new)) {
            assertThat(engine.forwardUsesHostCores()).isFalse();
            Scheduler loop = Schedulers.newSingle("connection-loop");
            try {
                assertThat(threadsSeeingOutputs(engine, loop)).allMatch(t -> t.startsWith("connection-loop"));
            } finally {
                loop.dispose();
            }
        }
    }

    @Test
    void onTheCpuBackendTheyStayWhereTheyAreEmitted() {
        try (Engine engine = TinyModel.engine()) {
            assertThat(engine.forwardUsesHostCores()).isTrue();
            assertThat(ConnectionThread.forEngineOutputs(exchange(), engine)).isSameAs(Schedulers.immediate());
            // The subscribing thread may show up too: while it still subscribes the later choices, the
            // merge can drain an earlier choice's output on it. No other thread may.
            Set<String> threads = threadsSeeingOutputs(engine, Schedulers.immediate());
            assertThat(threads).contains("podserve-engine").isSubsetOf("podserve-engine", Thread.currentThread().getName());
        }
    }
}
