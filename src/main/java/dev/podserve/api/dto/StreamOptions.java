package dev.podserve.api.dto;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * {@code stream_options}: with {@code include_usage} a last chunk carries the usage; with vLLM's
 * {@code continuous_usage_stats} every chunk carries its choice's counts so far too.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record StreamOptions(@JsonProperty("include_usage") Boolean includeUsage,
                            @JsonProperty("continuous_usage_stats") Boolean continuousUsageStats) {
}
