package dev.podserve.api;

import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.web.server.ServerWebExchange;

import reactor.core.publisher.Mono;
import tools.jackson.databind.ObjectMapper;

/** Writes one JSON object as the whole response (the non-streaming half of an endpoint that also streams). */
final class JsonBody {

    private JsonBody() {
    }

    /** Writes on the connection's event loop; see {@link ConnectionThread}. */
    static Mono<Void> write(ServerWebExchange exchange, ObjectMapper json, Mono<?> body) {
        ServerHttpResponse response = exchange.getResponse();
        return body.publishOn(ConnectionThread.of(exchange)).flatMap(value -> {
            response.getHeaders().setContentType(MediaType.APPLICATION_JSON);
            return response.writeWith(Mono.just(response.bufferFactory().wrap(json.writeValueAsBytes(value))));
        });
    }
}
