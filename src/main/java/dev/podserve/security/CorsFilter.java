package dev.podserve.security;

import java.time.Duration;
import java.util.List;

import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.http.HttpStatus;
import org.springframework.web.cors.CorsConfiguration;
import org.springframework.web.cors.reactive.CorsProcessor;
import org.springframework.web.cors.reactive.CorsUtils;
import org.springframework.web.cors.reactive.DefaultCorsProcessor;
import org.springframework.web.cors.reactive.UrlBasedCorsConfigurationSource;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebFilter;
import org.springframework.web.server.WebFilterChain;

import dev.podserve.config.PodserveProperties;

import reactor.core.publisher.Mono;

/**
 * Cross-origin calls from browser pages ({@code podserve.api.cors-allowed-origins}), by Spring's
 * CORS filter. It runs before the API-key filter: a browser's preflight carries no
 * {@code Authorization} header and must not be answered 401, and the CORS headers it adds stay
 * on error responses, so a page can read a 401 or a 429 (with {@code Retry-After}) instead of an
 * opaque network error. A request from an origin not allowed is refused with a 403 in OpenAI's
 * envelope, like every other error (Spring's own CORS filter answers it with an empty body). Off (a
 * pass-through) when no origin is configured.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
public class CorsFilter implements WebFilter {

    /** Null when CORS is off. */
    private final UrlBasedCorsConfigurationSource source;
    private final CorsProcessor processor = new DefaultCorsProcessor();

    public CorsFilter(PodserveProperties props) {
        List<String> origins = props.api().corsAllowedOrigins();
        if (origins.isEmpty()) {
            source = null;
            return;
        }
        CorsConfiguration config = new CorsConfiguration();
        origins.forEach(config::addAllowedOriginPattern);
        config.setAllowedMethods(List.of("GET", "POST", "OPTIONS"));
        // OpenAI's SDKs send their own headers (OpenAI-Organization, X-Stainless-*) beside Authorization.
        config.addAllowedHeader(CorsConfiguration.ALL);
        config.setExposedHeaders(List.of("Retry-After"));
        config.setAllowCredentials(false);
        config.setMaxAge(Duration.ofHours(1));
        source = new UrlBasedCorsConfigurationSource();
        source.registerCorsConfiguration("/**", config);
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        if (source == null) return chain.filter(exchange);
        // The processor adds the CORS headers to an allowed request and answers false for a
        // cross-origin request it refuses; a same-origin or non-browser request passes untouched.
        if (!processor.process(source.getCorsConfiguration(exchange), exchange)) {
            String origin = exchange.getRequest().getHeaders().getOrigin();
            return Mono.error(new ResponseStatusException(HttpStatus.FORBIDDEN,
                    "Cross-origin request from '" + origin + "' is not allowed (podserve.api.cors-allowed-origins)."));
        }
        // An allowed preflight is answered by its headers alone.
        return CorsUtils.isPreFlightRequest(exchange.getRequest()) ? Mono.empty() : chain.filter(exchange);
    }
}
