package dev.podserve.security;

import java.time.Duration;
import java.util.List;

import org.springframework.core.Ordered;
import org.springframework.core.annotation.Order;
import org.springframework.stereotype.Component;
import org.springframework.web.cors.CorsConfiguration;
import org.springframework.web.cors.reactive.CorsWebFilter;
import org.springframework.web.cors.reactive.UrlBasedCorsConfigurationSource;
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
 * opaque network error. Off (a pass-through) when no origin is configured.
 */
@Component
@Order(Ordered.HIGHEST_PRECEDENCE)
public class CorsFilter implements WebFilter {

    private final CorsWebFilter cors;

    public CorsFilter(PodserveProperties props) {
        List<String> origins = props.api().corsAllowedOrigins();
        if (origins.isEmpty()) {
            cors = null;
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
        UrlBasedCorsConfigurationSource source = new UrlBasedCorsConfigurationSource();
        source.registerCorsConfiguration("/**", config);
        cors = new CorsWebFilter(source);
    }

    @Override
    public Mono<Void> filter(ServerWebExchange exchange, WebFilterChain chain) {
        return cors == null ? chain.filter(exchange) : cors.filter(exchange, chain);
    }
}
