package dev.podserve.resilience;

import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;

import dev.podserve.security.ClientIdentity;
import dev.podserve.security.OpenPaths;

import reactor.core.publisher.Mono;

/**
 * Requests a second per API key, checked right after authentication and before the body is even
 * read, so a client over its rate costs the server next to nothing. Monitoring paths are not counted.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 20)
public class RequestRateFilter implements WebFilter {

    private final RateLimits limits;
    private final ResilienceMeters meters;

    public RequestRateFilter(RateLimits limits, ResilienceMeters meters) {
        this.limits = limits;
        this.meters = meters;
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        if (OpenPaths.isMonitoring(exchange.getRequest().getPath())) return chain.filter(exchange);
        try {
            limits.checkRequest(ClientIdentity.of(exchange));
        } catch (RejectedException e) {
            return Mono.error(meters.rejected(e));
        }
        return chain.filter(exchange);
    }
}
