package dev.podserve.resilience;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import dev.podserve.config.PodserveProperties;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import reactor.core.Disposable;
import reactor.core.publisher.Mono;

/**
 * The gate alone, no server: places up to the bulkhead, a FIFO queue up to its bound, 429 beyond;
 * the queue timer; a waiter that leaves; idempotent release; the drain on shutdown; the token
 * charge; and, under many threads admitting, cancelling and releasing at once, never more places
 * taken than exist and nothing left over at the end.
 */
class AdmissionGateTest {

    static PodserveProperties props(int places, int queue, Duration maxQueueTime, int tokensPerMinute) {
        PodserveProperties.Resilience r = new PodserveProperties.Resilience(places, queue, maxQueueTime, Duration.ZERO,
                Duration.ofSeconds(3), new PodserveProperties.RateLimit(0, tokensPerMinute),
                new PodserveProperties.CircuitBreaker(true, 50, 4, 2, Duration.ofSeconds(1), 1), Duration.ofSeconds(1));
        return new PodserveProperties(null, null, null, null, null, r, null, null, "cpu");
    }

    static AdmissionGate gate(PodserveProperties p) {
        ResilienceMeters meters = new ResilienceMeters(new SimpleMeterRegistry());
        return new AdmissionGate(p, new RateLimits(p), new BackendCircuitBreaker(p, meters), meters);
    }

    /** Subscribes to an admission and keeps what it yields. */
    static final class Attempt {
        final AtomicReference<Admission> admission = new AtomicReference<>();
        final AtomicReference<Throwable> error = new AtomicReference<>();
        final Disposable subscription;

        Attempt(AdmissionGate gate, long tokens) {
            this(gate, "client", tokens);
        }

        Attempt(AdmissionGate gate, String client, long tokens) {
            subscription = gate.admit(client, tokens).subscribe(admission::set, error::set);
        }

        RejectedException rejection() {
            return (RejectedException) error.get();
        }
    }

    /** A subscriber that cancels before the gate decides, as a cancel from another thread can. */
    @Test
    void aSubscriberThatCancelsFirstTakesNoPlace() {
        AdmissionGate gate = gate(props(2, 1, Duration.ZERO, 0));
        for (int i = 0; i < 3; i++) {
            gate.admit("client", 1).subscribe(new reactor.core.publisher.BaseSubscriber<Admission>() {
                @Override
                protected void hookOnSubscribe(org.reactivestreams.Subscription s) {
                    cancel();
                }
            });
        }
        assertThat(gate.inFlight()).isZero();
        assertThat(gate.queued()).isZero();
        Attempt a = new Attempt(gate, 1);
        Attempt b = new Attempt(gate, 1);
        assertThat(a.admission.get()).isNotNull();
        assertThat(b.admission.get()).isNotNull();
    }

    @Test
    void placesThenQueueThen429InArrivalOrder() {
        AdmissionGate gate = gate(props(2, 2, Duration.ZERO, 0));
        Attempt a = new Attempt(gate, 1);
        Attempt b = new Attempt(gate, 1);
        Attempt c = new Attempt(gate, 1);
        Attempt d = new Attempt(gate, 1);
        Attempt e = new Attempt(gate, 1);
        assertThat(a.admission.get()).isNotNull();
        assertThat(b.admission.get()).isNotNull();
        assertThat(c.admission.get()).as("waits").isNull();
        assertThat(d.admission.get()).as("waits").isNull();
        assertThat(e.rejection().reason()).isEqualTo(RejectedException.Reason.OVERLOADED);
        assertThat(e.rejection().status()).isEqualTo(429);
        assertThat(e.rejection().retryAfterSeconds()).isEqualTo(3);
        assertThat(gate.inFlight()).isEqualTo(2);
        assertThat(gate.queued()).isEqualTo(2);

        a.admission.get().release();
        assertThat(c.admission.get()).as("first in line gets the place").isNotNull();
        assertThat(d.admission.get()).isNull();
        a.admission.get().release();
        assertThat(gate.inFlight()).as("a second release gives nothing back").isEqualTo(2);
        b.admission.get().release();
        assertThat(d.admission.get()).isNotNull();
        c.admission.get().release();
        d.admission.get().release();
        assertThat(gate.inFlight()).isZero();
        assertThat(gate.queued()).isZero();
    }

    @Test
    void aWaiterThatLeavesGivesUpItsTurn() {
        AdmissionGate gate = gate(props(1, 2, Duration.ZERO, 0));
        Attempt a = new Attempt(gate, 1);
        Attempt leaves = new Attempt(gate, 1);
        Attempt stays = new Attempt(gate, 1);
        leaves.subscription.dispose();
        assertThat(gate.queued()).isEqualTo(1);
        a.admission.get().release();
        assertThat(leaves.admission.get()).isNull();
        assertThat(stays.admission.get()).isNotNull();
        stays.admission.get().release();
        assertThat(gate.inFlight()).isZero();
    }

    @Test
    void aWaiterPastMaxQueueTimeGets429() throws Exception {
        AdmissionGate gate = gate(props(1, 1, Duration.ofMillis(100), 0));
        Attempt a = new Attempt(gate, 1);
        long t0 = System.nanoTime();
        CountDownLatch failed = new CountDownLatch(1);
        AtomicReference<Throwable> error = new AtomicReference<>();
        gate.admit("client", 1).subscribe(x -> { }, e -> {
            error.set(e);
            failed.countDown();
        });
        assertThat(failed.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat((System.nanoTime() - t0) / 1_000_000).isGreaterThanOrEqualTo(95);
        assertThat(((RejectedException) error.get()).reason()).isEqualTo(RejectedException.Reason.QUEUE_TIMEOUT);
        assertThat(gate.queued()).isZero();
        a.admission.get().release();
        assertThat(gate.inFlight()).isZero();
    }

    @Test
    void drainRefusesWaitersAndNewcomersWith503() {
        AdmissionGate gate = gate(props(1, 2, Duration.ZERO, 0));
        Attempt a = new Attempt(gate, 1);
        Attempt waiting = new Attempt(gate, 1);
        gate.drain();
        assertThat(waiting.rejection().reason()).isEqualTo(RejectedException.Reason.SHUTTING_DOWN);
        assertThat(waiting.rejection().status()).isEqualTo(503);
        assertThat(new Attempt(gate, 1).rejection().reason()).isEqualTo(RejectedException.Reason.SHUTTING_DOWN);
        assertThat(gate.inFlight()).as("running requests keep their place").isEqualTo(1);
        a.admission.get().release();
        assertThat(gate.inFlight()).isZero();
    }

    @Test
    void tokensAreChargedOnlyWhenTheRequestGetsIn() {
        AdmissionGate gate = gate(props(1, 0, Duration.ZERO, 100));
        Attempt a = new Attempt(gate, 60);
        assertThat(a.admission.get()).isNotNull();
        // No place and no queue: refused as overloaded, and its tokens are not charged...
        assertThat(new Attempt(gate, 30).rejection().reason()).isEqualTo(RejectedException.Reason.OVERLOADED);
        a.admission.get().release();
        // ...so 40 are left: 30 fit, 50 would not.
        Attempt b = new Attempt(gate, 30);
        assertThat(b.admission.get()).isNotNull();
        b.admission.get().release();
        Attempt c = new Attempt(gate, 50);
        assertThat(c.rejection().reason()).isEqualTo(RejectedException.Reason.TOKEN_RATE);
        assertThat(c.rejection().retryAfterSeconds()).isBetween(1L, 60L);
        assertThat(gate.inFlight()).as("a refused charge holds no place").isZero();
        assertThat(new Attempt(gate, 101).rejection().retryAfter()).as("never fits: no Retry-After").isNull();
    }

    /** A request that waits is charged when it starts: one whose queue time runs out costs nothing. */
    @Test
    void aRequestThatNeverStartsCostsNoTokens() throws InterruptedException {
        AdmissionGate gate = gate(props(1, 1, Duration.ofMillis(100), 100));
        Attempt a = new Attempt(gate, 10);
        assertThat(a.admission.get()).isNotNull();
        Attempt b = new Attempt(gate, 80);
        assertThat(gate.queued()).isEqualTo(1);
        for (int i = 0; i < 200 && b.error.get() == null; i++) Thread.sleep(10);
        assertThat(b.rejection().reason()).isEqualTo(RejectedException.Reason.QUEUE_TIMEOUT);
        a.admission.get().release();
        // 90 of the minute's 100 are left: before, the waiter's 80 were gone with it.
        Attempt c = new Attempt(gate, 80);
        assertThat(c.admission.get()).as("the expired waiter was never charged").isNotNull();
        c.admission.get().release();
    }

    /** A key's waiting requests count against what its minute has left, so it cannot fill the shared queue for free. */
    @Test
    void oneKeyCannotQueueMoreThanItsMinuteCovers() {
        AdmissionGate gate = gate(props(1, 3, Duration.ZERO, 100));
        Attempt a = new Attempt(gate, 10);
        Attempt first = new Attempt(gate, 50);
        Attempt second = new Attempt(gate, 50);
        assertThat(gate.queued()).isEqualTo(1);
        assertThat(second.rejection().reason()).as("50 waiting plus 50 over the 90 left").isEqualTo(RejectedException.Reason.TOKEN_RATE);
        Attempt small = new Attempt(gate, 40);
        assertThat(gate.queued()).as("50 + 40 fit the 90 left").isEqualTo(2);
        assertThat(new Attempt(gate, 1).rejection().reason()).as("this key's minute is spoken for").isEqualTo(RejectedException.Reason.TOKEN_RATE);
        Attempt other = new Attempt(gate, "other-key", 1);
        assertThat(gate.queued()).as("another key still finds room in the queue").isEqualTo(3);
        first.subscription.dispose();
        assertThat(gate.queued()).isEqualTo(2);
        assertThat(new Attempt(gate, 49).rejection()).as("the withdrawn 50 no longer counts").isNull();
        a.admission.get().release();
        assertThat(small.admission.get()).as("next in line, charged its 40 now").isNotNull();
        assertThat(other.error.get()).isNull();
        assertThat(new Attempt(gate, 51).rejection().reason()).as("40 charged, 49 waiting: 1 left").isEqualTo(RejectedException.Reason.TOKEN_RATE);
    }

    /**
     * A request that fits a minute, refused only because its key's waiting requests fill this one,
     * is told to retry after the window, not that it can never fit and should shrink.
     */
    @Test
    void aRequestOverWhatItsKeysWaitingLeaveIsToldToRetryNotToShrink() {
        AdmissionGate gate = gate(props(1, 3, Duration.ZERO, 100));
        Attempt running = new Attempt(gate, 10);
        Attempt waiting = new Attempt(gate, 60);
        assertThat(gate.queued()).isEqualTo(1);
        RejectedException e = new Attempt(gate, 60).rejection();
        assertThat(e.reason()).isEqualTo(RejectedException.Reason.TOKEN_RATE);
        assertThat(e.getMessage()).contains("needs 60").contains("already waiting 60").doesNotContain("lower max_tokens");
        assertThat(e.retryAfterSeconds()).isBetween(1L, 60L);
        assertThat(new Attempt(gate, 101).rejection().retryAfter()).as("still: more than any minute, no Retry-After").isNull();
        running.admission.get().release();
        waiting.admission.get().release();
    }

    @Test
    void manyThreadsNeverTakeMorePlacesThanThereAreAndLeaveNothingBehind() throws Exception {
        int places = 3;
        AdmissionGate gate = gate(props(places, 5, Duration.ofMillis(20), 0));
        AtomicInteger holding = new AtomicInteger();
        AtomicInteger most = new AtomicInteger();
        ConcurrentLinkedQueue<Throwable> unexpected = new ConcurrentLinkedQueue<>();
        ExecutorService pool = Executors.newFixedThreadPool(8);
        List<java.util.concurrent.Future<?>> jobs = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            long seed = t;
            jobs.add(pool.submit(() -> {
                Random rnd = new Random(seed);
                for (int i = 0; i < 300; i++) {
                    CountDownLatch settled = new CountDownLatch(1);
                    // Taken as the controllers take it (usingWhen): a plain subscriber that cancels just as
                    // its place is granted may have the place dropped by Reactor, which no gate can see.
                    AtomicBoolean counted = new AtomicBoolean();
                    Disposable d = Mono.usingWhen(gate.admit("c", 1), a -> {
                        counted.set(true);
                        most.accumulateAndGet(holding.incrementAndGet(), Math::max);
                        return Mono.delay(Duration.ofMillis(rnd.nextInt(3)));
                    }, a -> Mono.fromRunnable(() -> {
                        // Counted out before the place is back, so a next holder never overlaps this one.
                        if (counted.getAndSet(false)) holding.decrementAndGet();
                        a.release();
                        a.release();  // twice: a second release must return nothing more
                    })).subscribe(x -> { }, e -> {
                        if (!(e instanceof RejectedException)) unexpected.add(e);
                        settled.countDown();
                    }, settled::countDown);
                    if (rnd.nextInt(4) == 0) d.dispose();  // leaves, maybe while waiting
                    try {
                        settled.await(rnd.nextInt(3), TimeUnit.MILLISECONDS);
                    } catch (InterruptedException e) {
                        return;
                    }
                    d.dispose();  // gone, holding or waiting or done
                }
            }));
        }
        for (var j : jobs) j.get(30, TimeUnit.SECONDS);
        pool.shutdown();
        long until = System.nanoTime() + 2_000_000_000L;
        while ((gate.inFlight() > 0 || gate.queued() > 0) && System.nanoTime() < until) Thread.sleep(5);
        assertThat(unexpected).isEmpty();
        assertThat(most.get()).isLessThanOrEqualTo(places);
        assertThat(gate.inFlight()).isZero();
        assertThat(gate.queued()).isZero();
    }
}
