package dev.podserve.api.dto;

import java.util.List;

import com.fasterxml.jackson.annotation.JsonProperty;

/** One entry of {@code /v1/models}, with vLLM's extra fields. */
public record ModelCard(String id, String object, long created, @JsonProperty("owned_by") String ownedBy,
                        String root, @JsonProperty("max_model_len") int maxModelLen, String backend) {

    public record ModelList(String object, List<ModelCard> data) {
    }
}
