package dev.podserve.api;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

import dev.podserve.api.dto.CompletionRequest;
import dev.podserve.api.dto.CompletionResponse;
import dev.podserve.api.dto.Usage;
import dev.podserve.config.EngineHolder;
import dev.podserve.engine.GenerationRequest;
import dev.podserve.engine.RequestOutput;
import dev.podserve.engine.ServingModel;
import dev.podserve.engine.TokenLogprob;
import dev.podserve.sampling.SamplingParams;
import dev.podserve.tokenizer.HfTokenizer;

import reactor.core.publisher.Mono;

/**
 * {@code POST /v1/completions}, non-streaming. The response is assembled from the engine's
 * per-step outputs; a client that disconnects cancels the subscription, which aborts the request.
 */
@RestController
class CompletionsController {

    private final EngineHolder holder;

    CompletionsController(EngineHolder holder) {
        this.holder = holder;
    }

    @PostMapping(path = "/v1/completions", consumes = MediaType.APPLICATION_JSON_VALUE, produces = MediaType.APPLICATION_JSON_VALUE)
    Mono<CompletionResponse> complete(@RequestBody CompletionRequest body) {
        ServingModel model = holder.require();
        ModelsController.checkModel(body.model(), model);
        if (Boolean.TRUE.equals(body.stream())) {
            throw ApiException.badRequest("stream", "Streaming completions are not supported by this server yet; send stream=false.");
        }
        int[] prompt = PromptParser.tokenIds(body.prompt(), model.tokenizer());
        SamplingParams params = SamplingMapper.fromCompletion(body, model.generationConfig());
        String id = "cmpl-" + UUID.randomUUID().toString().replace("-", "");
        long created = Instant.now().getEpochSecond();
        return model.engine().submit(new GenerationRequest(id, prompt, params))
                .collectList()
                .map(outputs -> response(id, created, model, outputs, params.logprobs() != null));
    }

    private static CompletionResponse response(String id, long created, ServingModel model, List<RequestOutput> outputs,
                                               boolean withLogprobs) {
        StringBuilder text = new StringBuilder();
        String finish = null;
        int promptTokens = 0;
        int completionTokens = 0;
        List<TokenLogprob> logprobs = new ArrayList<>();
        for (RequestOutput o : outputs) {
            text.append(o.text());
            logprobs.addAll(o.logprobs());
            promptTokens = o.promptTokens();
            completionTokens = o.completionTokens();
            if (o.finishReason() != null) finish = o.finishReason().wire();
        }
        CompletionResponse.CompletionLogprobs lp = withLogprobs ? legacyLogprobs(logprobs, model.tokenizer()) : null;
        return new CompletionResponse(id, "text_completion", created, model.servedName(),
                List.of(new CompletionResponse.Choice(0, text.toString(), lp, finish)),
                Usage.of(promptTokens, completionTokens));
    }

    /** Legacy shape: per token its text, its logprob, its top alternatives and its character offset. */
    private static CompletionResponse.CompletionLogprobs legacyLogprobs(List<TokenLogprob> lps, HfTokenizer tok) {
        List<String> tokens = new ArrayList<>();
        List<Float> values = new ArrayList<>();
        List<Map<String, Float>> tops = new ArrayList<>();
        List<Integer> offsets = new ArrayList<>();
        int offset = 0;
        for (TokenLogprob lp : lps) {
            String t = tok.decode(new int[] {lp.token()}, false);
            tokens.add(t);
            values.add(finite(lp.logprob()));
            Map<String, Float> top = new LinkedHashMap<>();
            for (int k = 0; k < lp.topTokens().length; k++) {
                top.putIfAbsent(tok.decode(new int[] {lp.topTokens()[k]}, false), finite(lp.topLogprobs()[k]));
            }
            tops.add(top);
            offsets.add(offset);
            offset += t.length();
        }
        return new CompletionResponse.CompletionLogprobs(tokens, values, tops, offsets);
    }

    /** JSON has no infinity; a masked token's log-probability is sent as vLLM sends it. */
    static float finite(float logprob) {
        return Math.max(logprob, -9999f);
    }
}
