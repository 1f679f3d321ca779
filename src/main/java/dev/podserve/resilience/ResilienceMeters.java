package dev.podserve.resilience;

import java.util.EnumMap;
import java.util.Map;
import java.util.function.Supplier;

import org.springframework.stereotype.Component;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

/**
 * What the protections did, on {@code /metrics}: rejections by reason, requests admitted and
 * waiting, and the circuit breaker's state. vLLM has no such series, hence the {@code podserve:} prefix.
 */
@Component
public class ResilienceMeters {

    private final MeterRegistry registry;
    private final Map<RejectedException.Reason, Counter> rejected = new EnumMap<>(RejectedException.Reason.class);

    public ResilienceMeters(MeterRegistry registry) {
        this.registry = registry;
        // Every reason exists from the start at 0, so rate() sees the first rejection of each kind.
        for (RejectedException.Reason reason : RejectedException.Reason.values()) {
            rejected.put(reason, Counter.builder("podserve:requests_rejected_total").tag("reason", reason.label())
                    .description("Requests turned away before any work was done for them, by reason.").register(registry));
        }
    }

    /** Counts the rejection and hands it back, so call sites read {@code throw meters.rejected(...)}. */
    public RejectedException rejected(RejectedException e) {
        rejected.get(e.reason()).increment();
        return e;
    }

    void gauge(String name, String help, Supplier<Number> value) {
        Gauge.builder(name, value).description(help).strongReference(true).register(registry);
    }
}
