package dev.podserve.api;

import java.nio.charset.StandardCharsets;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.annotation.Order;
import org.springframework.core.io.buffer.DataBuffer;
import org.springframework.http.HttpHeaders;
import org.springframework.http.HttpStatus;
import org.springframework.http.MediaType;
import org.springframework.http.server.reactive.ServerHttpResponse;
import org.springframework.stereotype.Component;
import org.springframework.web.server.ServerWebExchange;
import org.springframework.web.server.WebExceptionHandler;

import reactor.core.publisher.Mono;
import tools.jackson.databind.ObjectMapper;

/**
 * Every error that reaches the web layer, from a controller, the JSON decoder or routing, leaves
 * in OpenAI's envelope. Runs before Spring Boot's default handler, which would answer in its own shape.
 */
@Component
@Order(-2)
class OpenAiErrorHandler implements WebExceptionHandler {

    private static final Logger log = LoggerFactory.getLogger(OpenAiErrorHandler.class);

    private final ObjectMapper json;

    OpenAiErrorHandler(ObjectMapper json) {
        this.json = json;
    }

    @Override
    public Mono<Void> handle(ServerWebExchange exchange, Throwable error) {
        OpenAiErrors.Mapped mapped = OpenAiErrors.map(error);
        if (mapped.status().is5xxServerError() && mapped.status().value() != 503) {
            log.error("request {} {} failed", exchange.getRequest().getMethod(), exchange.getRequest().getPath(), error);
        } else {
            // The class and the field, not the message: messages may quote the request, prompt text included.
            log.debug("request {} {} rejected: {} {} (param {})", exchange.getRequest().getMethod(),
                    exchange.getRequest().getPath(), mapped.status().value(), error.getClass().getSimpleName(),
                    mapped.body().error().param());
        }
        ServerHttpResponse response = exchange.getResponse();
        if (response.isCommitted()) return Mono.error(error);
        response.setStatusCode(mapped.status());
        response.getHeaders().setContentType(MediaType.APPLICATION_JSON);
        if (mapped.retryAfterSeconds() >= 0) {
            response.getHeaders().set(HttpHeaders.RETRY_AFTER, Long.toString(mapped.retryAfterSeconds()));
        }
        if (mapped.status() == HttpStatus.UNAUTHORIZED) response.getHeaders().set(HttpHeaders.WWW_AUTHENTICATE, "Bearer");
        // A 405 must say what is allowed (RFC 9110); Spring puts it on the exception.
        if (error instanceof org.springframework.web.server.ResponseStatusException e && !e.getHeaders().getAllow().isEmpty()) {
            response.getHeaders().setAllow(e.getHeaders().getAllow());
        }
        byte[] bytes = json.writeValueAsString(mapped.body()).getBytes(StandardCharsets.UTF_8);
        DataBuffer buffer = response.bufferFactory().wrap(bytes);
        return response.writeWith(Mono.just(buffer));
    }
}
