package dev.podserve.sampling;

/**
 * A sampling parameter is outside the range the sampler supports. {@link #param()} is the field
 * name as OpenAI and vLLM spell it on the wire ({@code top_p}, {@code max_tokens}, ...), so the API
 * layer can put it in the error envelope's {@code param} without a mapping table.
 */
public final class InvalidSamplingParamException extends RuntimeException {

    private final String param;

    public InvalidSamplingParamException(String param, String message) {
        super(message);
        this.param = param;
    }

    public String param() {
        return param;
    }
}
