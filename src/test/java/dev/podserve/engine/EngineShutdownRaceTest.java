package dev.podserve.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;

import dev.podserve.backend.ForwardingBackend;
import dev.podserve.model.ModelConfig;
import dev.podserve.sampling.SamplingParams;

import reactor.core.publisher.Flux;
import reactor.core.scheduler.Schedulers;

/**
 * A subscription that checks the engine is accepting, then loses the race with its shutdown: the
 * loop's last drain of the inbox has passed before the request is queued. It must be answered
 * with {@link EngineUnavailableException}, not left waiting for a loop that is gone.
 */
class EngineShutdownRaceTest {

    @Test
    void aRequestQueuedAfterTheLastDrainIsRefused() throws Exception {
        CountDownLatch checked = new CountDownLatch(1);
        CountDownLatch go = new CountDownLatch(1);
        AtomicBoolean hold = new AtomicBoolean();
        // The subscription reads the model config between its accepting check and queueing the
        // request: holding it there opens the window for as long as the test needs.
        Engine engine = TinyModel.engine(64, 64, 4, 64, b -> new ForwardingBackend(b) {
            @Override
            public ModelConfig config() {
                if (hold.get() && Thread.currentThread().getName().startsWith("boundedElastic")) {
                    checked.countDown();
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
                return delegate.config();
            }
        });
        Flux<RequestOutput> late = engine.submit(new GenerationRequest("late", new int[] {1, 2, 3},
                SamplingParams.builder().temperature(0).maxTokens(4).build()));
        hold.set(true);
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        late.subscribeOn(Schedulers.boundedElastic()).subscribe(o -> { }, outcome::complete,
                () -> outcome.complete(null));
        assertThat(checked.await(10, TimeUnit.SECONDS)).isTrue();
        engine.close();
        go.countDown();
        assertThat(outcome.get(10, TimeUnit.SECONDS)).isInstanceOf(EngineUnavailableException.class);
    }
}
