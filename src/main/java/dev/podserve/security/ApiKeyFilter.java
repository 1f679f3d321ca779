package dev.podserve.security;

import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.http.HttpHeaders;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;

import dev.podserve.config.PodserveProperties;

import reactor.core.publisher.Mono;

/**
 * With API keys configured, every request outside {@link OpenPaths} needs
 * {@code Authorization: Bearer <key>}; without one, 401 in OpenAI's envelope (the error handler
 * writes it). The first filter, so nothing else runs for an unauthenticated request. Records the
 * key's identity for the rate limits.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE + 10)
public class ApiKeyFilter implements WebFilter {

    private static final Logger log = LoggerFactory.getLogger(ApiKeyFilter.class);
    private static final String BEARER = "bearer ";

    private final ApiKeys keys;
    private final OpenPaths open;

    public ApiKeyFilter(ApiKeys keys, PodserveProperties props) {
        this.keys = keys;
        this.open = new OpenPaths(props.security());
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        if (!keys.enabled() || open.isOpen(exchange.getRequest().getPath())) return chain.filter(exchange);
        String header = exchange.getRequest().getHeaders().getFirst(HttpHeaders.AUTHORIZATION);
        if (header == null || !header.regionMatches(true, 0, BEARER, 0, BEARER.length())) {
            log.debug("401 for {}: no bearer token", exchange.getRequest().getPath());
            return Mono.error(new UnauthorizedException(
                    "Missing API key: send it as 'Authorization: Bearer <key>'."));
        }
        Optional<String> id = keys.identify(header.substring(BEARER.length()).strip());
        if (id.isEmpty()) {
            log.debug("401 for {}: unknown API key", exchange.getRequest().getPath());
            return Mono.error(new UnauthorizedException("Invalid API key."));
        }
        exchange.getAttributes().put(ClientIdentity.ATTRIBUTE, id.get());
        return chain.filter(exchange);
    }
}
