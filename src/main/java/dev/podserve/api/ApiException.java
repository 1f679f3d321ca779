package dev.podserve.api;

import org.springframework.http.HttpStatus;

/** An error the API answers in OpenAI's envelope with the given status, type and parameter. */
public class ApiException extends RuntimeException {

    private final HttpStatus status;
    private final String param;

    public ApiException(HttpStatus status, String param, String message) {
        super(message);
        this.status = status;
        this.param = param;
    }

    public static ApiException badRequest(String param, String message) {
        return new ApiException(HttpStatus.BAD_REQUEST, param, message);
    }

    public HttpStatus status() {
        return status;
    }

    public String param() {
        return param;
    }
}
