package dev.podserve.api.dto;

/** OpenAI's error envelope: {@code {"error": {"message", "type", "param", "code"}}}. */
public record ErrorResponse(Body error) {

    public record Body(String message, String type, String param, Integer code) {
    }

    public static ErrorResponse of(String message, String type, String param, int code) {
        return new ErrorResponse(new Body(message, type, param, code));
    }
}
