package dev.podserve.api;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.UUID;

import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;
import org.springframework.web.server.ServerWebExchange;

import dev.podserve.api.dto.ChatCompletionRequest;
import dev.podserve.config.EngineHolder;
import dev.podserve.config.PodserveProperties;
import dev.podserve.engine.RequestRejectedException;
import dev.podserve.engine.ServingModel;
import dev.podserve.resilience.AdmissionGate;
import dev.podserve.sampling.SamplingParams;
import dev.podserve.structured.OutputGrammar;
import dev.podserve.security.ClientIdentity;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.ObjectMapper;

/**
 * {@code POST /v1/chat/completions}, streaming and not. Everything that can be checked is checked
 * before the first byte goes out, so bad input is a plain 400; then the request waits for a place
 * at the {@link AdmissionGate} (or is turned away with 429/503), and only then does the response
 * start; after that, failures go in-band. A client that disconnects cancels the stream, which
 * aborts every choice in the engine and gives its place back.
 */
@RestController
class ChatCompletionsController {

    private final EngineHolder holder;
    private final ObjectMapper json;
    private final PodserveProperties props;
    private final AdmissionGate gate;
    private final RequestLimits limits;
    private final PromptLog promptLog;

    ChatCompletionsController(EngineHolder holder, ObjectMapper json, PodserveProperties props, AdmissionGate gate) {
        this.holder = holder;
        this.json = json;
        this.props = props;
        this.gate = gate;
        this.limits = new RequestLimits(props);
        this.promptLog = new PromptLog(props.security().logPrompts());
    }

    @PostMapping(path = "/v1/chat/completions", consumes = MediaType.APPLICATION_JSON_VALUE)
    Mono<Void> chat(@RequestBody ChatCompletionRequest body, ServerWebExchange exchange) {
        ServingModel model = holder.require();
        ModelsController.checkModel(body.model(), model);
        limits.checkCounts(body);
        boolean stream = Boolean.TRUE.equals(body.stream());
        StreamUsage usage = StreamUsage.of(body);
        int n = SamplingMapper.choices(body);
        Integer topLogprobs = topLogprobs(body);

        Map<String, Object> unknown = body.unknownFields() == null ? Map.of() : body.unknownFields();
        for (String legacy : List.of("functions", "function_call")) {
            if (unknown.get(legacy) != null) {
                throw ApiException.badRequest(legacy, legacy + " is OpenAI's deprecated form of tool calling; send tools and tool_choice.");
            }
        }
        ToolChoices.Plan tools = ToolChoices.parse(body.tools(), body.toolChoice(), unknown.get("parallel_tool_calls"), json,
                ToolCallFormat.of(model, props.model().toolCallFormat()), model.tokenizer());
        OutputGrammar format = ResponseFormats.parse(body.responseFormat(), body.structuredOutputs(), unknown, json);
        // Calls the model may make are no structured output's answer, bound by a grammar (the JSON formats) or not (XML, Mistral v11).
        if ((tools.grammar() != null || tools.mode() == ToolChoices.Mode.AUTO) && format != null) {
            throw ApiException.badRequest("tool_choice", (tools.calls() ? "A forced tool call is already a structured output"
                    : "Tool calls the model may make (tool_choice \"auto\") cannot be combined with a structured output") + "; drop "
                    + (body.responseFormat() != null ? "response_format" : "structured_outputs") + " or set tool_choice to \"none\".");
        }
        if (tools.calls() && (body.stop() != null || (body.stopTokenIds() != null && !body.stopTokenIds().isEmpty()))) {
            // A stop would cut the call's JSON short and still send it as a finished call.
            throw ApiException.badRequest(body.stop() != null ? "stop" : "stop_token_ids",
                    "stop and stop_token_ids cannot be combined with a forced tool call: the call ends where its JSON does.");
        }
        // Checked before the template runs; vLLM's check leaves room for the output the client set, if it set one.
        Integer givenMax = body.maxCompletionTokens() != null ? body.maxCompletionTokens() : body.maxTokens();
        int keep = PromptTruncation.keep(body.truncatePromptTokens(), model.maxModelLen(), model.maxRequestTokens(),
                givenMax == null ? 0 : Math.max(0, givenMax));
        String promptText = ChatPrompts.render(model, body.messages(),
                ChatPrompts.addGenerationPrompt(body.addGenerationPrompt(), body.continueFinalMessage()),
                tools.tools(), ChatPrompts.templateKwargs(unknown.get("chat_template_kwargs")),
                Boolean.TRUE.equals(body.continueFinalMessage()));
        int[] prompt = PromptTruncation.apply(model.tokenizer().encodeNoSpecial(promptText), keep);
        limits.checkPromptTokens(prompt.length, "messages");
        int maxTokens = maxTokens(body, prompt.length, model, n);
        SamplingParams params = SamplingMapper.from(body, maxTokens, topLogprobs, model.generationConfig(),
                model.tokenizer()::encodeNoSpecial);
        String id = "chatcmpl-" + UUID.randomUUID().toString().replace("-", "");
        ReasoningFormat reasoning = ReasoningFormat.of(model, props.model().reasoningFormat());
        ChatResponses.Thinking thinking = reasoning == null ? null : new ChatResponses.Thinking(reasoning, reasoning.startsInside(promptText));
        OutputGrammar grammar = tools.grammar() != null ? tools.grammar() : format;
        // A reasoning model thinks freely first: the format and the calls bind its answer.
        if (grammar != null && thinking != null) grammar = grammar.afterReasoning(reasoning.prelude(model.tokenizer(), thinking.startsInside()));
        // A call or a thinking block opened by a special token must keep it in the text, or it could not be read back.
        boolean skipSpecial = (body.skipSpecialTokens() == null || body.skipSpecialTokens())
                && !(tools.mode() == ToolChoices.Mode.AUTO && tools.format().opensWithSpecialToken(model.tokenizer()))
                && !(reasoning != null && reasoning.tagsAreSpecial(model.tokenizer()));
        List<Choices.Choice> choices = Choices.plan(id, List.of(prompt), n, params, skipSpecial,
                Choices.cacheSalt(body.cacheSalt(), props.security().isolatePrefixCache() ? ClientIdentity.of(exchange) : null),
                grammar, body.priority());
        Choices.validate(model.engine(), choices);
        long cost = Choices.tokenCost(List.of(prompt), choices.size(), maxTokens, params.promptLogprobs() != null);
        List<String> logged = promptLog.enabled() ? List.of(model.tokenizer().decode(prompt, false)) : List.of();
        return Mono.usingWhen(gate.admit(ClientIdentity.of(exchange), cost), admission -> {
            Flux<Choices.Event> events = promptLog.tap(id, logged, choices.size(),
                    admission.watch(Choices.run(model.engine(), choices, admission.deadlines(),
                            ConnectionThread.forEngineOutputs(exchange, model.engine()))));
            ChatResponses.Meta meta = new ChatResponses.Meta(id, Instant.now().getEpochSecond(), model, prompt.length,
                    topLogprobs != null, body.promptLogprobs(), tools, thinking);
            if (stream) {
                return Sse.write(exchange, ChatResponses.stream(meta, choices, events, usage, json),
                        props.api().keepAlive(), json);
            }
            return JsonBody.write(exchange, json, ChatResponses.collect(meta, choices, events));
        }, admission -> Mono.fromRunnable(admission::release));
    }

    /**
     * {@code max_completion_tokens} wins over {@code max_tokens}. Neither: whatever room a request
     * has after its prompt (the context, or the KV cache when that holds less), lowered to the
     * checkpoint's {@code max_new_tokens} (generation_config.json), to
     * {@code podserve.security.limits.max-tokens}, and, under a tokens-a-minute limit, to what one
     * minute's tokens leave each of the {@code n} choices after the prompt. A client that set no
     * length must not be refused over a length it did not ask for: the request is charged its
     * prompt plus max_tokens per choice, which for a whole context would exceed any small budget.
     */
    private int maxTokens(ChatCompletionRequest body, int promptTokens, ServingModel model, int n) {
        boolean completion = body.maxCompletionTokens() != null;
        Integer given = completion ? body.maxCompletionTokens() : body.maxTokens();
        if (given != null) {
            // Errors name the field the client sent.
            String field = completion ? "max_completion_tokens" : "max_tokens";
            if (given < 1) throw ApiException.badRequest(field, field + " must be at least 1; got " + given + ".");
            try {
                return limits.maxTokens(given, given);
            } catch (ApiException e) {
                throw completion ? ApiException.badRequest(field, e.getMessage().replace("max_tokens", field)) : e;
            }
        }
        int room = model.maxRequestTokens();
        if (promptTokens >= room) {
            String limit = room < model.maxModelLen()
                    ? "The KV cache holds at most " + room + " tokens for one request (prompt and completion)."
                    : "This model's maximum context length is " + room + " tokens.";
            throw new RequestRejectedException("messages", limit + " However, your messages resulted in " + promptTokens
                    + " tokens. Please shorten the messages.");
        }
        int fallback = room - promptTokens;
        // The checkpoint's max_new_tokens is the length of a chat that sets none, as in vLLM.
        OptionalInt shipped = model.generationConfig() == null ? OptionalInt.empty() : model.generationConfig().maxNewTokens();
        if (shipped.isPresent()) fallback = Math.min(fallback, shipped.getAsInt());
        int perMinute = props.resilience().rateLimit().tokensPerMinute();
        if (perMinute > 0) {
            // At least one token, and at least min_tokens: a request the minute cannot hold is then
            // refused by the rate limit itself (429), not by a length check it never asked for (400).
            int least = Math.max(1, body.minTokens() == null ? 0 : body.minTokens());
            // The prompt as the charge counts it (Choices.tokenCost): once per choice when every choice scores it.
            long promptCharge = body.promptLogprobs() != null ? (long) promptTokens * n : promptTokens;
            fallback = (int) Math.max(Math.min(least, fallback), Math.min(fallback, (perMinute - promptCharge) / n));
        }
        return limits.maxTokens(null, fallback);
    }

    /** Chat's {@code logprobs} is a switch and {@code top_logprobs} the count; the count alone is an error. */
    private static Integer topLogprobs(ChatCompletionRequest body) {
        boolean on = Boolean.TRUE.equals(body.logprobs());
        if (body.topLogprobs() != null && !on) {
            throw ApiException.badRequest("top_logprobs", "top_logprobs requires logprobs to be true.");
        }
        if (!on) return null;
        int n = body.topLogprobs() == null ? 0 : body.topLogprobs();
        // Checked here so the error names top_logprobs: the count goes on as the sampler's logprobs.
        if (n < 0 || n > SamplingParams.MAX_LOGPROBS) {
            throw ApiException.badRequest("top_logprobs", "top_logprobs must be in the range [0, " + SamplingParams.MAX_LOGPROBS + "]; got " + n + ".");
        }
        return n;
    }
}
