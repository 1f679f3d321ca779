package dev.podserve.api.dto;

import java.util.List;
import java.util.Map;

/**
 * The sampling fields chat and text completion requests share; both request records implement
 * it by having the same accessors, so one mapper serves both.
 */
public interface SamplingFields {
    Double temperature();

    Double topP();

    Integer topK();

    Double minP();

    Long seed();

    Object stop();

    List<Integer> stopTokenIds();

    Integer n();

    Double presencePenalty();

    Double frequencyPenalty();

    Double repetitionPenalty();

    Map<String, Double> logitBias();

    Boolean ignoreEos();

    /** vLLM's: the stop string that ended the text stays at its end. */
    Boolean includeStopStrInOutput();

    Integer minTokens();

    Boolean stream();

    StreamOptions streamOptions();

    Boolean skipSpecialTokens();

    /** vLLM's extension: score every prompt token, with this many alternatives (not streamed). */
    Integer promptLogprobs();

    /** vLLM's extension: only these token ids may be generated. */
    List<Integer> allowedTokenIds();

    /** vLLM's extension: words the output may not contain, banned as token sequences. */
    List<String> badWords();

    /** vLLM's extension: keep only the prompt's last k tokens (-1: as many as the context leaves room for). */
    Integer truncatePromptTokens();

    /** Fields the server does not know, by name; accepted and ignored, as OpenAI clients add new ones. */
    Map<String, Object> unknownFields();
}
