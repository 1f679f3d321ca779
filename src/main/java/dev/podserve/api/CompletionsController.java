package dev.podserve.api;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;

import dev.podserve.api.dto.CompletionRequest;
import dev.podserve.config.EngineHolder;
import dev.podserve.config.PodserveProperties;
import dev.podserve.engine.ServingModel;
import dev.podserve.resilience.AdmissionGate;
import dev.podserve.sampling.SamplingParams;
import dev.podserve.security.ClientIdentity;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.ObjectMapper;

/**
 * {@code POST /v1/completions}, streaming and not, for one or several prompts with {@code n}
 * choices each. Checks happen before the first byte, then admission (see
 * {@link ChatCompletionsController}); a client that disconnects aborts every choice.
 */
@RestController
class CompletionsController {

    /** OpenAI's default {@code max_tokens} for text completions. */
    static final int DEFAULT_MAX_TOKENS = 16;

    private final EngineHolder holder;
    private final ObjectMapper json;
    private final PodserveProperties props;
    private final AdmissionGate gate;
    private final RequestLimits limits;
    private final PromptLog promptLog;

    CompletionsController(EngineHolder holder, ObjectMapper json, PodserveProperties props, AdmissionGate gate) {
        this.holder = holder;
        this.json = json;
        this.props = props;
        this.gate = gate;
        this.limits = new RequestLimits(props);
        this.promptLog = new PromptLog(props.security().logPrompts());
    }

    @PostMapping(path = "/v1/completions", consumes = MediaType.APPLICATION_JSON_VALUE)
    Mono<Void> complete(@RequestBody CompletionRequest body, ServerWebExchange exchange) {
        ServingModel model = holder.require();
        ModelsController.checkModel(body.model(), model);
        if (body.suffix() != null && !body.suffix().isEmpty()) {
            throw ApiException.badRequest("suffix", "suffix is not supported by this model.");
        }
        limits.checkCounts(body);
        boolean stream = Boolean.TRUE.equals(body.stream());
        StreamUsage usage = StreamUsage.of(body);
        int n = SamplingMapper.choices(body);
        limits.checkBestOf(body.bestOf());
        // Candidates a prompt: n, or best_of of which the n likeliest are returned.
        int candidates = checkBestOf(body.bestOf(), n, stream);
        boolean echo = Boolean.TRUE.equals(body.echo());
        limits.checkPromptCount(body.prompt());
        int maxTokens = limits.maxTokens(body.maxTokens(), DEFAULT_MAX_TOKENS);
        int keep = PromptTruncation.keep(body.truncatePromptTokens(), model.maxModelLen(), model.maxRequestTokens(),
                Math.max(0, maxTokens));
        List<PromptParser.Prompt> prompts = truncated(PromptParser.parse(body.prompt(), model.tokenizer()), keep);
        for (PromptParser.Prompt p : prompts) limits.checkPromptTokens(p.ids().length, "prompt");
        // 0 generates nothing: only an echo has anything to return then (the prompt, scored with logprobs).
        if (maxTokens < (echo ? 0 : 1)) {
            throw ApiException.badRequest("max_tokens", echo ? "max_tokens must not be negative; got " + maxTokens + "."
                    : "max_tokens must be at least 1 (0 only together with echo); got " + maxTokens + ".");
        }
        // Ranking candidates needs each sampled token's log-probability, asked for or not.
        Integer logprobs = candidates > n && body.logprobs() == null ? Integer.valueOf(0) : body.logprobs();
        SamplingParams params = SamplingMapper.from(body, maxTokens, logprobs, model.generationConfig(),
                model.tokenizer()::encodeNoSpecial);
        // An echo with logprobs scores every prompt token as well, with as many alternatives (or
        // prompt_logprobs' count where that asks for more: one scoring serves both).
        if (echo && body.logprobs() != null && (params.promptLogprobs() == null || params.promptLogprobs() < body.logprobs())) {
            params = params.toBuilder().promptLogprobs(body.logprobs()).build();
        }
        String id = "cmpl-" + UUID.randomUUID().toString().replace("-", "");
        List<int[]> ids = prompts.stream().map(PromptParser.Prompt::ids).toList();
        List<Choices.Choice> choices = Choices.plan(id, ids, candidates, params,
                body.skipSpecialTokens() == null || body.skipSpecialTokens(), Choices.cacheSalt(body.cacheSalt(),
                props.security().isolatePrefixCache() ? ClientIdentity.of(exchange) : null),
                ResponseFormats.parse(body.responseFormat(), body.structuredOutputs(), body.unknownFields(), json),
                body.priority());
        Choices.validate(model.engine(), choices);
        String[] echoes = echo ? echoes(choices, prompts, model) : null;
        long cost = Choices.tokenCost(ids, choices.size(), maxTokens, params.promptLogprobs() != null);
        List<String> logged = !promptLog.enabled() ? List.of() : prompts.stream()
                .map(p -> p.text() != null ? p.text() : model.tokenizer().decode(p.ids(), false)).toList();
        return Mono.usingWhen(gate.admit(ClientIdentity.of(exchange), cost), admission -> {
            Flux<Choices.Event> events = promptLog.tap(id, logged, choices.size(),
                    admission.watch(Choices.run(model.engine(), choices, admission.deadlines(),
                            ConnectionThread.forEngineOutputs(exchange, model.engine()))));
            CompletionResponses.Meta meta = new CompletionResponses.Meta(id, Instant.now().getEpochSecond(), model,
                    Choices.promptTokens(ids), body.logprobs(), echoes, body.promptLogprobs());
            if (stream) {
                return Sse.write(exchange, CompletionResponses.stream(meta, choices, events, usage, json),
                        props.api().keepAlive(), json);
            }
            return JsonBody.write(exchange, json, candidates > n ? CompletionResponses.collectBest(meta, choices, events, n)
                    : CompletionResponses.collect(meta, choices, events));
        }, admission -> Mono.fromRunnable(admission::release));
    }

    /**
     * {@code best_of} under OpenAI's rules: at least {@code n}, and not with streaming (the best are
     * only known at the end). Returns the candidates to run a prompt.
     */
    private static int checkBestOf(Integer bestOf, int n, boolean stream) {
        if (bestOf == null) return n;
        if (bestOf < n) {
            throw ApiException.badRequest("best_of", "best_of must be greater than or equal to n; got best_of " + bestOf
                    + " and n " + n + ".");
        }
        if (stream && bestOf > 1) {
            throw ApiException.badRequest("best_of", "best_of cannot be used with stream; set stream to false or best_of to 1.");
        }
        return bestOf;
    }

    /**
     * The prompts cut to their last {@code keep} tokens (truncate_prompt_tokens); a cut prompt loses
     * its text, so that an echo or the prompt log shows what the model was given.
     */
    private static List<PromptParser.Prompt> truncated(List<PromptParser.Prompt> prompts, int keep) {
        if (keep < 0) return prompts;
        return prompts.stream().map(p -> {
            int[] ids = PromptTruncation.apply(p.ids(), keep);
            return ids == p.ids() ? p : new PromptParser.Prompt(ids, null);
        }).toList();
    }

    /** The prompt text each choice echoes: the string sent, or the decoding of the ids sent. */
    private static String[] echoes(List<Choices.Choice> choices, List<PromptParser.Prompt> prompts, ServingModel model) {
        String[] out = new String[choices.size()];
        for (Choices.Choice c : choices) {
            PromptParser.Prompt p = prompts.get(c.promptIndex());
            out[c.index()] = p.text() != null ? p.text() : model.tokenizer().decode(p.ids(), false);
        }
        return out;
    }
}
