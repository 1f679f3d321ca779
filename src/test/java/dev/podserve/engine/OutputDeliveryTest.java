package dev.podserve.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import reactor.core.publisher.Sinks;

class OutputDeliveryTest {

    @Test
    void inlineEmitsAtOnceOnTheCallingThread() {
        List<String> seen = new ArrayList<>();
        try (OutputDelivery d = OutputDelivery.inline()) {
            d.emit(() -> seen.add(Thread.currentThread().getName()));
            assertThat(seen).containsExactly(Thread.currentThread().getName());
        }
    }

    @Test
    void ownThreadHoldsSignalsUntilFlushThenEmitsThemInOrderElsewhere() throws Exception {
        List<Integer> seen = Collections.synchronizedList(new ArrayList<>());
        Set<String> threads = ConcurrentHashMap.newKeySet();
        try (OutputDelivery d = OutputDelivery.onOwnThread("test-outputs")) {
            for (int i = 0; i < 5; i++) {
                int n = i;
                d.emit(() -> {
                    seen.add(n);
                    threads.add(Thread.currentThread().getName());
                });
            }
            Thread.sleep(50);
            assertThat(seen).as("nothing before the flush").isEmpty();
            CountDownLatch done = new CountDownLatch(1);
            d.emit(done::countDown);
            d.flush();
            assertThat(done.await(10, TimeUnit.SECONDS)).isTrue();
            assertThat(seen).containsExactly(0, 1, 2, 3, 4);
            assertThat(threads).containsExactly("test-outputs");
        }
    }

    /** Many requests' sinks, many steps: each stream sees its outputs in order, then completes; a throwing signal harms nobody else. */
    @Test
    void eachSinkKeepsItsOrderAcrossFlushesAndCloseDeliversTheRest() {
        int streams = 16;
        int steps = 400;
        List<Sinks.Many<Integer>> sinks = new ArrayList<>();
        List<reactor.core.publisher.Mono<List<Integer>>> results = new ArrayList<>();
        for (int s = 0; s < streams; s++) {
            Sinks.Many<Integer> sink = Sinks.many().unicast().onBackpressureBuffer();
            sinks.add(sink);
            results.add(sink.asFlux().collectList().cache());
            results.get(s).subscribe();
        }
        OutputDelivery d = OutputDelivery.onOwnThread("test-outputs");
        for (int step = 0; step < steps; step++) {
            for (int s = 0; s < streams; s++) {
                int value = step;
                Sinks.Many<Integer> sink = sinks.get(s);
                d.emit(() -> sink.tryEmitNext(value));
            }
            if (step % 7 == 0) {
                d.emit(() -> {
                    throw new IllegalStateException("one response failed");
                });
            }
            d.flush();
        }
        for (Sinks.Many<Integer> sink : sinks) d.emit(sink::tryEmitComplete);
        d.close();  // not flushed: close must deliver these too
        List<Integer> expected = new ArrayList<>();
        for (int step = 0; step < steps; step++) expected.add(step);
        for (int s = 0; s < streams; s++) {
            assertThat(results.get(s).block(Duration.ofSeconds(10))).as("stream %d", s).isEqualTo(expected);
        }
    }
}
