package dev.podserve.api.dto;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/** Body of vLLM's {@code POST /detokenize}. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record DetokenizeRequest(String model, List<Integer> tokens) {

    /** Without the ids: they spell the users' text. */
    @Override
    public String toString() {
        return "DetokenizeRequest[model=" + model + ", tokens=" + (tokens == null ? "null" : tokens.size() + " ids") + "]";
    }
}
