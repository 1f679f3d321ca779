package dev.podserve.api.dto;

/** vLLM's {@code /detokenize} answer: the text of the ids. */
public record DetokenizeResponse(String prompt) {

    /** Without the text: Spring logs encoded bodies at DEBUG, and it is the users' data. */
    @Override
    public String toString() {
        return "DetokenizeResponse[" + (prompt == null ? "null" : prompt.length() + " chars") + "]";
    }
}
