package dev.podserve.api;

import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpResponse;

import reactor.core.publisher.Mono;
import tools.jackson.databind.ObjectMapper;

/** Writes one JSON object as the whole response (the non-streaming half of an endpoint that also streams). */
final class JsonBody {

    private JsonBody() {
    }

    static Mono<Void> write(ServerHttpResponse response, ObjectMapper json, Mono<?> body) {
        return body.flatMap(value -> {
            response.getHeaders().setContentType(MediaType.APPLICATION_JSON);
            return response.writeWith(Mono.just(response.bufferFactory().wrap(json.writeValueAsBytes(value))));
        });
    }
}
