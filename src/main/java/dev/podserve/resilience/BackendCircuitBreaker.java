package dev.podserve.resilience;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;

import dev.podserve.attention.HybridBatch;
import dev.podserve.backend.BackendDecorator;
import dev.podserve.backend.ComputeBackend;
import dev.podserve.backend.ForwardingBackend;
import dev.podserve.config.PodserveProperties;
import dev.podserve.engine.Engine;
import dev.podserve.engine.GenerationRequest;
import dev.podserve.sampling.DeviceDraw;
import dev.podserve.sampling.SamplingParams;

import io.github.resilience4j.circuitbreaker.CircuitBreaker;
import io.github.resilience4j.circuitbreaker.CircuitBreakerConfig;

/**
 * A Resilience4j circuit breaker around the compute backend, where one call is one engine step's
 * forward pass. When steps keep failing (a lost GPU, a broken driver) it opens: new requests are
 * refused with 503 and a {@code Retry-After} of the time left, requests still in the engine fail
 * at their next step, and {@code /health} reports DOWN. After {@code wait-duration-in-open-state}
 * the next forward pass is let through half-open as a probe; when the probes succeed the breaker
 * closes and serving resumes. The probe is a real request if one comes, else the one that
 * {@link #probeIfDue} sends when {@code /health} is polled, so a server that a load balancer took
 * out of rotation still finds its way back.
 *
 * <p>Ordered last among the decorators, so it is outermost and sees every failure beneath it.
 */
@Component
@Order(Ordered.LOWEST_PRECEDENCE)
public class BackendCircuitBreaker implements BackendDecorator {

    private static final Logger log = LoggerFactory.getLogger(BackendCircuitBreaker.class);

    /** Null when podserve.resilience.circuit-breaker.enabled is false. */
    private final CircuitBreaker breaker;
    private final Duration waitInOpen;
    private volatile long openedAtNanos;
    private final AtomicBoolean probing = new AtomicBoolean();

    public BackendCircuitBreaker(PodserveProperties props, ResilienceMeters meters) {
        PodserveProperties.CircuitBreaker c = props.resilience().circuitBreaker();
        this.waitInOpen = c.waitDurationInOpenState();
        // Registered with the breaker off too (always 0 then), so dashboards find the series.
        meters.gauge("podserve:backend_circuit_state", "Compute backend circuit breaker: 0 closed, 1 half-open, 2 open.",
                () -> switch (state()) {
                    case CLOSED, DISABLED, METRICS_ONLY -> 0;
                    case HALF_OPEN -> 1;
                    case OPEN, FORCED_OPEN -> 2;
                });
        if (!c.enabled()) {
            breaker = null;
            return;
        }
        breaker = CircuitBreaker.of("backend", config(c));
        breaker.getEventPublisher().onStateTransition(e -> {
            CircuitBreaker.State to = e.getStateTransition().getToState();
            if (to == CircuitBreaker.State.OPEN) {
                openedAtNanos = System.nanoTime();
                log.warn("compute backend circuit breaker {}: refusing requests for {} ms (failure rate {}%)",
                        e.getStateTransition(), waitInOpen.toMillis(), breaker.getMetrics().getFailureRate());
            } else {
                log.info("compute backend circuit breaker {}", e.getStateTransition());
            }
        });
    }

    /**
     * Opens on failed steps only. Resilience4j also counts calls over 60 s as "slow" by default and
     * opens when all recent calls are: a healthy but slow backend (a large model on the CPU backend
     * takes minutes a prefill step) would then be cut off every few steps. No step counts as slow.
     */
    static CircuitBreakerConfig config(PodserveProperties.CircuitBreaker c) {
        return CircuitBreakerConfig.custom()
                .slidingWindowType(CircuitBreakerConfig.SlidingWindowType.COUNT_BASED)
                .slidingWindowSize(c.slidingWindowSize())
                .minimumNumberOfCalls(c.minimumNumberOfCalls())
                .failureRateThreshold(c.failureRateThreshold())
                .slowCallRateThreshold(100)
                .slowCallDurationThreshold(Duration.ofNanos(Long.MAX_VALUE))
                .waitDurationInOpenState(c.waitDurationInOpenState())
                .permittedNumberOfCallsInHalfOpenState(c.permittedCallsInHalfOpenState())
                // Half-open on the next call rather than from a timer thread of Resilience4j's own.
                .automaticTransitionFromOpenToHalfOpenEnabled(false)
                .build();
    }

    @Override
    public ComputeBackend decorate(ComputeBackend backend) {
        return breaker == null ? backend : new Guarded(backend);
    }

    /** The breaker's state; CLOSED when it is disabled. */
    public CircuitBreaker.State state() {
        return breaker == null ? CircuitBreaker.State.CLOSED : breaker.getState();
    }

    /**
     * Throws the 503 for a new request while the breaker is open and its wait has not run out; once
     * it has, the request is admitted and its first forward pass is the half-open probe.
     */
    void checkAdmits() {
        if (breaker == null) return;
        CircuitBreaker.State s = breaker.getState();
        if ((s == CircuitBreaker.State.OPEN && remainingOpen().compareTo(Duration.ZERO) > 0)
                || s == CircuitBreaker.State.FORCED_OPEN) {
            throw openError();
        }
    }

    private RejectedException openError() {
        return new RejectedException(RejectedException.Reason.BACKEND_FAILING,
                "The compute backend is failing (circuit breaker open); retry after the Retry-After delay.", remainingOpen());
    }

    private Duration remainingOpen() {
        long left = waitInOpen.toNanos() - (System.nanoTime() - openedAtNanos);
        return Duration.ofNanos(Math.max(0, left));
    }

    /** Why {@code /health} must say DOWN, if the breaker is the reason. */
    public Optional<String> downReason() {
        return switch (state()) {
            case OPEN, FORCED_OPEN -> Optional.of("the compute backend failed repeatedly (circuit breaker open); a probe "
                    + "follows in " + Math.max(0, remainingOpen().toSeconds()) + " s");
            case HALF_OPEN -> Optional.of("the compute backend failed repeatedly (circuit breaker half-open); a probe is checking it");
            default -> Optional.empty();
        };
    }

    /**
     * Sends a one-token request through the engine when the breaker waits for a probe (open with its
     * wait run out, or half-open) and none is under way. Called from {@code /health}.
     */
    public void probeIfDue(Engine engine) {
        if (breaker == null) return;
        CircuitBreaker.State s = breaker.getState();
        boolean due = s == CircuitBreaker.State.HALF_OPEN
                || (s == CircuitBreaker.State.OPEN && remainingOpen().isZero());
        if (!due || !engine.isServing() || !probing.compareAndSet(false, true)) return;
        SamplingParams greedyOne = SamplingParams.builder().temperature(0).maxTokens(1).ignoreEos(true).build();
        GenerationRequest probe = new GenerationRequest("health-probe-" + System.nanoTime(), new int[] {0}, greedyOne);
        log.info("compute backend circuit breaker {}: sending a probe request", s);
        try {
            engine.submit(probe).doFinally(signal -> probing.set(false))
                    .subscribe(out -> { }, e -> log.info("probe request failed: {}", e.toString()));
        } catch (RuntimeException e) {
            probing.set(false);
            log.info("probe request not sent: {}", e.toString());
        }
    }

    /** The backend with every forward pass counted by the breaker. */
    private final class Guarded extends ForwardingBackend {

        Guarded(ComputeBackend delegate) {
            super(delegate);
        }

        @Override
        public float[][] forward(HybridBatch batch) {
            return guarded(() -> delegate.forward(batch));
        }

        @Override
        public StepOutput forwardForSampling(HybridBatch batch, boolean[] needLogits) {
            return guarded(() -> delegate.forwardForSampling(batch, needLogits));
        }

        @Override
        public StepOutput forwardForSampling(HybridBatch batch, boolean[] needLogits, DeviceDraw[] draws) {
            return guarded(() -> delegate.forwardForSampling(batch, needLogits, draws));
        }

        /**
         * Scoring prompt rows runs on the device between steps: a fault there is a fault of the
         * backend and counts. It takes no permission of its own (it follows a step that had one),
         * and a backend that cannot score is not faulty.
         */
        @Override
        public void rowLogits(int[] rows, RowLogitsSink sink) {
            counted(() -> {
                delegate.rowLogits(rows, sink);
                return null;
            });
        }

        @Override
        public RowScore[] scoreRows(int[] rows, int[] targets, int top) {
            return counted(() -> delegate.scoreRows(rows, targets, top));
        }

        private <T> T counted(java.util.function.Supplier<T> scoring) {
            long start = System.nanoTime();
            try {
                return scoring.get();
            } catch (UnsupportedOperationException | IllegalArgumentException e) {
                // A backend that cannot score, or a row without a distribution: not a fault of the device.
                throw e;
            } catch (RuntimeException | Error e) {
                breaker.onError(System.nanoTime() - start, TimeUnit.NANOSECONDS, e);
                throw e;
            }
        }

        private <T> T guarded(java.util.function.Supplier<T> step) {
            if (!breaker.tryAcquirePermission()) throw openError();
            long start = System.nanoTime();
            try {
                T out = step.get();
                breaker.onSuccess(System.nanoTime() - start, TimeUnit.NANOSECONDS);
                return out;
            } catch (RuntimeException | Error e) {
                breaker.onError(System.nanoTime() - start, TimeUnit.NANOSECONDS, e);
                throw e;
            }
        }
    }
}
