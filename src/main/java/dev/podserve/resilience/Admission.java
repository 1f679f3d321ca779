package dev.podserve.resilience;

import java.time.Duration;

import dev.podserve.engine.Deadlines;
import dev.podserve.engine.QueueTimeoutException;

import reactor.core.Disposable;
import reactor.core.publisher.Flux;
import reactor.core.publisher.MonoSink;

/**
 * One request's place in the {@link AdmissionGate}: waiting for a place in the engine, then holding
 * one until {@link #release()}. Every transition happens under the gate's lock and release is
 * idempotent, so the response finishing, the client leaving and the queue timer may all call it in
 * any order and the place is returned exactly once.
 */
public final class Admission {

    enum State { WAITING, ADMITTED, RELEASED }

    private final AdmissionGate gate;
    private final long arrivalNanos;
    private final Deadlines deadlines;
    // Guarded by the gate's lock.
    State state = State.WAITING;
    MonoSink<Admission> sink;
    /** A waiting request's rate-limit identity and cost, charged when it gets its place. */
    String client;
    long tokens;
    Disposable queueTimer;

    Admission(AdmissionGate gate, long arrivalNanos, Duration maxQueueTime, Duration requestTimeout) {
        this.gate = gate;
        this.arrivalNanos = arrivalNanos;
        this.deadlines = Deadlines.of(arrivalNanos, maxQueueTime, requestTimeout);
    }

    long arrivalNanos() {
        return arrivalNanos;
    }

    /** The limits the engine enforces for this request, counted from its arrival at the gate. */
    public Deadlines deadlines() {
        return deadlines;
    }

    /** Gives the place back (or leaves the queue); later calls do nothing. */
    public void release() {
        gate.release(this);
    }

    /**
     * The engine's outputs for this request, with a start deadline the engine enforced turned into
     * the same 429 an overloaded gate answers: either way the server was too busy to start it in time.
     */
    public <T> Flux<T> watch(Flux<T> outputs) {
        return outputs.onErrorMap(QueueTimeoutException.class, e -> gate.queueTimeout());
    }
}
