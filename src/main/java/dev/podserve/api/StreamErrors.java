package dev.podserve.api;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import tools.jackson.databind.ObjectMapper;

/** A failure after a stream has started goes in-band, as OpenAI does: an error event, then [DONE]. */
final class StreamErrors {

    private static final Logger log = LoggerFactory.getLogger(StreamErrors.class);

    private StreamErrors() {
    }

    static String frame(ObjectMapper json, Throwable error) {
        OpenAiErrors.Mapped mapped = OpenAiErrors.map(error);
        if (mapped.status().is5xxServerError()) log.warn("stream failed after it started: {}", error.toString());
        return Sse.data(json.writeValueAsString(mapped.body()));
    }
}
