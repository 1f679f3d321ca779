package dev.podserve.resilience;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.springframework.stereotype.Component;

import dev.podserve.config.PodserveProperties;

import io.github.resilience4j.bulkhead.Bulkhead;
import io.github.resilience4j.bulkhead.BulkheadConfig;
import reactor.core.publisher.Mono;
import reactor.core.publisher.MonoSink;
import reactor.core.scheduler.Schedulers;

/**
 * Admission control for generation requests, in front of the engine. A Resilience4j bulkhead
 * bounds the requests in the engine ({@code max-concurrent-requests}); a FIFO queue of at most
 * {@code max-waiting-requests} holds those that wait for a place; anything beyond both is answered
 * 429 at once, so the engine's own queue never grows without bound and overload never turns into a
 * 5xx or a timeout. The queue is ours rather than the bulkhead's because Resilience4j waits by
 * blocking a thread, with no bound on how many wait, which a reactive server cannot afford.
 *
 * <p>Before a request may queue, the gate also refuses it when the server is shutting down or the
 * backend's circuit breaker is open (503), or when its API key is out of tokens for the minute (429).
 * Tokens are charged when the request gets its place: at once, or when it leaves the queue for the
 * engine. One that leaves the queue otherwise (its queue time runs out, its client goes, the server
 * drains) costs none. Before it queues, a request is checked against what its key's minute has left
 * after the key's other waiting requests, so one key cannot fill the shared queue at no cost; should
 * the charge still fail when its turn comes, it gets the 429 then and its place goes to the next.
 */
@Component
public class AdmissionGate {

    private final Bulkhead bulkhead;
    private final int maxWaiting;
    private final Duration maxQueueTime;
    private final Duration requestTimeout;
    private final Duration retryAfter;
    private final RateLimits rateLimits;
    private final BackendCircuitBreaker breaker;
    private final ResilienceMeters meters;

    private final Object lock = new Object();
    // Guarded by lock.
    private final ArrayDeque<Admission> waiting = new ArrayDeque<>();
    /** Per client, the tokens of its requests in {@link #waiting}: what their starts will charge. */
    private final Map<String, Long> waitingTokens = new HashMap<>();
    private int admitted;
    private boolean draining;

    public AdmissionGate(PodserveProperties props, RateLimits rateLimits, BackendCircuitBreaker breaker,
                         ResilienceMeters meters) {
        PodserveProperties.Resilience r = props.resilience();
        this.bulkhead = Bulkhead.of("engine", BulkheadConfig.custom()
                .maxConcurrentCalls(r.maxConcurrentRequests())
                // Never block: a request that finds no place joins our queue instead.
                .maxWaitDuration(Duration.ZERO)
                .build());
        this.maxWaiting = r.maxWaitingRequests();
        this.maxQueueTime = r.maxQueueTime();
        this.requestTimeout = r.requestTimeout();
        this.retryAfter = r.retryAfter();
        this.rateLimits = rateLimits;
        this.breaker = breaker;
        this.meters = meters;
        meters.gauge("podserve:requests_admitted", "Generation requests holding a place in the engine.", this::inFlight);
        meters.gauge("podserve:requests_queued", "Generation requests waiting for a place in the engine.", this::queued);
    }

    /**
     * A place in the engine for one request, once one is free: at once, after a wait in the queue,
     * or an error ({@link RejectedException}) when the request must be turned away. Cancelling the
     * Mono leaves the queue; the caller must {@link Admission#release()} what it gets, when the
     * response is done. Take it through {@code Mono.usingWhen}, as the controllers do: a plain
     * subscriber that cancels at the very moment its place is granted can have Reactor drop the
     * place (a value that reaches a cancelled subscriber is discarded, and the source sees no
     * cancel, since it had already emitted), and then nobody would return it.
     *
     * @param client the rate-limit identity (see {@code security.ClientIdentity})
     * @param tokens what the request may cost, prompt plus {@code max_tokens} of every choice
     */
    public Mono<Admission> admit(String client, long tokens) {
        return Mono.create(sink -> {
            Admission a = new Admission(this, System.nanoTime(), maxQueueTime, requestTimeout);
            // Set first: a cancel that races the grant below still returns the place.
            sink.onCancel(a::release);
            try {
                if (enter(a, sink, client, tokens)) sink.success(a);
            } catch (RejectedException e) {
                sink.error(meters.rejected(e));
            }
        });
    }

    /** True when the request got a place at once; false when it waits; throws when it is refused. */
    private boolean enter(Admission a, MonoSink<Admission> sink, String client, long tokens) {
        breaker.checkAdmits();
        synchronized (lock) {
            // Cancelled before the gate decided (Reactor runs the create callback for a subscriber that
            // has already cancelled, and onCancel then released it at once): taking a place now would
            // keep it forever, as nobody is left to release it.
            if (a.state != Admission.State.WAITING) return false;
            if (draining) throw shuttingDown();
            boolean placeFree = waiting.isEmpty() && bulkhead.tryAcquirePermission();
            if (!placeFree && waiting.size() >= maxWaiting) {
                throw new RejectedException(RejectedException.Reason.OVERLOADED, "The server is at capacity ("
                        + (admitted + waiting.size()) + " requests running or waiting); retry after the Retry-After delay.",
                        retryAfter);
            }
            try {
                // Only once a place or a queue slot is certain, so an overload 429 costs no tokens; a
                // request that waits is charged when it gets its place (see release).
                if (placeFree) rateLimits.chargeTokens(client, tokens);
                // Its own waiting requests count too: else one key could fill the shared queue with
                // copies that each fit what is left, and crowd every other key out at no cost.
                else rateLimits.checkTokens(client, tokens, waitingTokens.getOrDefault(client, 0L));
            } catch (RejectedException e) {
                if (placeFree) bulkhead.releasePermission();
                throw e;
            }
            if (placeFree) {
                a.state = Admission.State.ADMITTED;
                admitted++;
                return true;
            }
            a.client = client;
            a.tokens = tokens;
            a.sink = sink;
            waiting.addLast(a);
            waitingTokens.merge(client, tokens, Long::sum);
            if (!maxQueueTime.isZero()) {
                a.queueTimer = Schedulers.parallel().schedule(() -> expire(a), maxQueueTime.toNanos(), TimeUnit.NANOSECONDS);
            }
            return false;
        }
    }

    /** Takes a waiting request out of the queue and its tokens out of its client's waiting sum. Under the lock. */
    private void leaveQueue(Admission a) {
        // One cancelled before the gate decided never joined the queue.
        if (waiting.remove(a)) waitingTokens.computeIfPresent(a.client, (c, sum) -> sum == a.tokens ? null : sum - a.tokens);
    }

    /** The queue timer: a request still waiting leaves the queue with a 429. */
    private void expire(Admission a) {
        MonoSink<Admission> sink;
        synchronized (lock) {
            if (a.state != Admission.State.WAITING) return;
            leaveQueue(a);
            a.state = Admission.State.RELEASED;
            sink = a.sink;
        }
        sink.error(queueTimeout());
    }

    RejectedException queueTimeout() {
        return meters.rejected(new RejectedException(RejectedException.Reason.QUEUE_TIMEOUT,
                "The request waited longer than " + maxQueueTime.toMillis() + " ms (podserve.resilience.max-queue-time)"
                        + " without starting: the server is busy; retry after the Retry-After delay.", retryAfter));
    }

    private static RejectedException shuttingDown() {
        return new RejectedException(RejectedException.Reason.SHUTTING_DOWN,
                "The server is shutting down and takes no new requests.", null);
    }

    /** Returns a place, or withdraws a waiting request, and hands freed places to the queue in order. */
    void release(Admission a) {
        List<Admission> granted = null;
        List<Admission> refused = null;
        List<RejectedException> why = null;
        synchronized (lock) {
            switch (a.state) {
                case RELEASED -> {
                    return;
                }
                case WAITING -> {
                    leaveQueue(a);
                    a.state = Admission.State.RELEASED;
                    if (a.queueTimer != null) a.queueTimer.dispose();
                    return;
                }
                case ADMITTED -> {
                    a.state = Admission.State.RELEASED;
                    admitted--;
                    bulkhead.onComplete();
                }
            }
            while (!draining && !waiting.isEmpty() && bulkhead.tryAcquirePermission()) {
                Admission next = waiting.peekFirst();
                leaveQueue(next);
                try {
                    rateLimits.chargeTokens(next.client, next.tokens);
                } catch (RejectedException e) {
                    // Its minute was spent while it waited: refused now, and the place goes to the next.
                    bulkhead.releasePermission();
                    next.state = Admission.State.RELEASED;
                    if (refused == null) {
                        refused = new ArrayList<>(1);
                        why = new ArrayList<>(1);
                    }
                    refused.add(next);
                    why.add(e);
                    continue;
                }
                next.state = Admission.State.ADMITTED;
                admitted++;
                if (granted == null) granted = new ArrayList<>(1);
                granted.add(next);
            }
        }
        // Outside the lock: the waiter's continuation (submitting to the engine) runs inside success().
        if (granted != null) {
            for (Admission next : granted) {
                if (next.queueTimer != null) next.queueTimer.dispose();
                next.sink.success(next);
            }
        }
        if (refused != null) {
            for (int i = 0; i < refused.size(); i++) {
                Admission next = refused.get(i);
                if (next.queueTimer != null) next.queueTimer.dispose();
                next.sink.error(meters.rejected(why.get(i)));
            }
        }
    }

    /** Shutdown: no new requests, and those still waiting are refused (503) so their clients can go elsewhere. */
    public void drain() {
        List<Admission> refused;
        synchronized (lock) {
            draining = true;
            refused = new ArrayList<>(waiting);
            waiting.clear();
            waitingTokens.clear();
            refused.forEach(a -> a.state = Admission.State.RELEASED);
        }
        for (Admission a : refused) {
            if (a.queueTimer != null) a.queueTimer.dispose();
            a.sink.error(meters.rejected(shuttingDown()));
        }
    }

    /** Admission again after a {@link #drain()}: a stopped application context that is started again (tests pause them). */
    public void open() {
        synchronized (lock) {
            draining = false;
        }
    }

    public boolean draining() {
        synchronized (lock) {
            return draining;
        }
    }

    /** Requests holding a place. */
    public int inFlight() {
        synchronized (lock) {
            return admitted;
        }
    }

    /** Requests waiting for a place. */
    public int queued() {
        synchronized (lock) {
            return waiting.size();
        }
    }
}
