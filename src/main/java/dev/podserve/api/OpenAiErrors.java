package dev.podserve.api;

import java.util.Map;

import org.springframework.core.codec.DecodingException;
import org.springframework.core.io.buffer.DataBufferLimitException;
import org.springframework.http.HttpStatus;
import org.springframework.http.HttpStatusCode;
import org.springframework.web.server.ResponseStatusException;
import org.springframework.web.server.ServerWebInputException;

import dev.podserve.api.dto.ErrorResponse;
import dev.podserve.engine.EngineUnavailableException;
import dev.podserve.engine.QueueTimeoutException;
import dev.podserve.engine.RequestRejectedException;
import dev.podserve.engine.StepFailedException;
import dev.podserve.resilience.RejectedException;
import dev.podserve.sampling.InvalidSamplingParamException;
import dev.podserve.security.UnauthorizedException;
import dev.podserve.tokenizer.ChatTemplateException;

import tools.jackson.core.JacksonException;

/**
 * Maps any failure to OpenAI's error envelope with vLLM's type names, but for 429, which carries
 * OpenAI's {@code rate_limit_exceeded}. Bad input is always a 4xx: the SDKs retry 5xx, so a 5xx for
 * a client's mistake would be sent again and again.
 */
final class OpenAiErrors {

    static final int MAX_MESSAGE = 1000;

    private static final Map<Integer, String> TYPES = Map.of(
            400, "BadRequestError", 401, "AuthenticationError", 403, "PermissionDeniedError", 404, "NotFoundError", 405, "MethodNotAllowedError",
            413, "RequestTooLargeError", 415, "UnsupportedMediaTypeError", 429, "rate_limit_exceeded",
            503, "ServiceUnavailableError", 500, "InternalServerError");

    private OpenAiErrors() {
    }

    /** @param retryAfterSeconds the {@code Retry-After} header to send; -1 for none */
    record Mapped(HttpStatus status, ErrorResponse body, long retryAfterSeconds) {
    }

    static Mapped map(Throwable error) {
        if (error instanceof ApiException e) return of(e.status(), e.param(), e.getMessage());
        // Also when it comes wrapped, as the engine wraps what the guarded backend throws.
        RejectedException rejected = findCause(error, RejectedException.class);
        if (rejected != null) {
            Mapped m = of(HttpStatus.valueOf(rejected.status()), null, rejected.getMessage());
            return new Mapped(m.status(), m.body(), rejected.retryAfterSeconds());
        }
        if (error instanceof UnauthorizedException e) return of(HttpStatus.UNAUTHORIZED, null, e.getMessage());
        if (error instanceof QueueTimeoutException e) return of(HttpStatus.TOO_MANY_REQUESTS, null, e.getMessage());
        if (error instanceof RequestRejectedException e) return of(HttpStatus.BAD_REQUEST, e.param(), e.getMessage());
        if (error instanceof InvalidSamplingParamException e) return of(HttpStatus.BAD_REQUEST, e.param(), e.getMessage());
        if (error instanceof ChatTemplateException e) {
            return of(HttpStatus.BAD_REQUEST, "messages", "The chat template could not be applied: " + e.getMessage());
        }
        if (error instanceof EngineUnavailableException e) return of(HttpStatus.SERVICE_UNAVAILABLE, null, e.getMessage());
        if (error instanceof StepFailedException e) return of(HttpStatus.INTERNAL_SERVER_ERROR, null, e.getMessage());
        if (hasCause(error, DataBufferLimitException.class)) {
            return of(HttpStatus.CONTENT_TOO_LARGE, null, "The request body is larger than the server accepts.");
        }
        if (error instanceof ServerWebInputException e) return badInput(e);
        if (error instanceof ResponseStatusException e && e.getStatusCode().value() == 404) {
            // Spring's reason names its own static-resource lookup; say what OpenAI says instead.
            return of(HttpStatus.NOT_FOUND, null, "Invalid URL: no such route.");
        }
        if (error instanceof ResponseStatusException e) {
            HttpStatusCode code = e.getStatusCode();
            HttpStatus status = HttpStatus.resolve(code.value());
            String reason = e.getReason() != null ? e.getReason() : status != null ? status.getReasonPhrase() : "error";
            return of(status != null ? status : HttpStatus.BAD_REQUEST, null, reason);
        }
        return of(HttpStatus.INTERNAL_SERVER_ERROR, null, "Internal server error: " + error.getClass().getSimpleName());
    }

    private static Mapped badInput(ServerWebInputException e) {
        JacksonException json = findCause(e, JacksonException.class);
        if (json != null) {
            String param = jsonPath(json);
            String what = json.getOriginalMessage();
            if (what != null && what.length() > 300) what = what.substring(0, 300) + "...";
            return of(HttpStatus.BAD_REQUEST, param, param != null
                    ? "Invalid value for '" + param + "': " + what
                    : "The request body is not valid JSON: " + what);
        }
        if (findCause(e, DecodingException.class) != null || e.getReason() == null) {
            return of(HttpStatus.BAD_REQUEST, null, "The request body could not be read as JSON.");
        }
        return of(HttpStatus.BAD_REQUEST, null, e.getReason());
    }

    /** The offending field as a dotted path ({@code messages.0.content}), or null at top level. */
    private static String jsonPath(JacksonException e) {
        StringBuilder path = new StringBuilder();
        for (JacksonException.Reference ref : e.getPath()) {
            if (!path.isEmpty()) path.append('.');
            path.append(ref.getPropertyName() != null ? ref.getPropertyName() : String.valueOf(ref.getIndex()));
        }
        return path.isEmpty() ? null : path.toString();
    }

    static Mapped of(HttpStatus status, String param, String message) {
        String m = message == null ? status.getReasonPhrase() : message;
        if (m.length() > MAX_MESSAGE) m = m.substring(0, MAX_MESSAGE - 3) + "...";
        String type = TYPES.getOrDefault(status.value(), status.is4xxClientError() ? "BadRequestError" : "InternalServerError");
        return new Mapped(status, ErrorResponse.of(m, type, param, status.value()), -1);
    }

    private static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
        return findCause(t, type) != null;
    }

    private static <T extends Throwable> T findCause(Throwable t, Class<T> type) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (type.isInstance(c)) return type.cast(c);
        }
        return null;
    }
}
