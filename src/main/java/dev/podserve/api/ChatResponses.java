package dev.podserve.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.function.IntFunction;

import dev.podserve.api.dto.ChatCompletionChunk;
import dev.podserve.api.dto.ChatCompletionResponse;
import dev.podserve.api.dto.ChatLogprobs;
import dev.podserve.api.dto.PromptLogprob;
import dev.podserve.engine.RequestOutput;
import dev.podserve.engine.ServingModel;
import dev.podserve.engine.TokenLogprob;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.ObjectMapper;

/** Engine outputs to {@code chat.completion} objects, or to the chunk stream OpenAI clients expect. */
final class ChatResponses {

    private ChatResponses() {
    }

    /**
     * @param promptLogprobs the request's {@code prompt_logprobs} (null: none)
     * @param tools          what the answer is when a tool call is forced ({@link ToolChoices})
     */
    record Meta(String id, long created, ServingModel model, int promptTokens, boolean logprobs, Integer promptLogprobs,
                ToolChoices.Plan tools, Thinking thinking) {

        Meta(String id, long created, ServingModel model, int promptTokens, boolean logprobs, Integer promptLogprobs) {
            this(id, created, model, promptTokens, logprobs, promptLogprobs, ToolChoices.Plan.FREE, null);
        }
    }

    /**
     * A reasoning model's thinking, split from its answers.
     *
     * @param startsInside whether the prompt opened the thinking, so every answer begins inside it
     */
    record Thinking(ReasoningFormat format, boolean startsInside) {

        ReasoningText splitter() {
            return new ReasoningText(format, startsInside);
        }
    }

    static Mono<ChatCompletionResponse> collect(Meta meta, List<Choices.Choice> choices, Flux<Choices.Event> events) {
        return events.collectList().map(all -> {
            ChoiceResults results = ChoiceResults.of(choices.size(), null, all);
            List<ChatCompletionResponse.Choice> out = new ArrayList<>(results.size());
            for (int i = 0; i < results.size(); i++) {
                ChatLogprobs lp = meta.logprobs() ? LogprobsMapper.chat(results.logprobs(i), meta.model().tokenizer()) : null;
                String text = results.text(i);
                String reasoning = null;
                if (meta.thinking() != null) {
                    ReasoningText.Split split = ReasoningText.split(meta.thinking().format(), meta.thinking().startsInside(), text);
                    reasoning = split.reasoning().isEmpty() ? null : split.reasoning();
                    // All thinking and no answer: no content, as vLLM sends it.
                    text = split.content().isEmpty() && reasoning != null ? null : split.content();
                }
                String finish = results.finishReason(i);
                ChatCompletionResponse.Message message;
                List<ChatCompletionResponse.ToolCall> calls;
                boolean endedInArguments = false;
                if (meta.tools().format() != null) {
                    ToolCallText.Whole read = ToolCallText.read(meta.tools().reader(), text == null ? "" : text);
                    calls = read.calls().isEmpty() ? null : read.calls();
                    endedInArguments = read.endedInArguments();
                    message = new ChatCompletionResponse.Message("assistant", text == null ? null : read.content(), calls, reasoning);
                } else {
                    calls = toolCalls(meta.tools(), text == null ? "" : text);
                    message = new ChatCompletionResponse.Message("assistant", calls == null ? text : null, calls, reasoning);
                }
                out.add(new ChatCompletionResponse.Choice(i, message, lp,
                        finishReason(meta.tools(), calls == null ? 0 : calls.size(), endedInArguments, finish), results.stopReason(i)));
            }
            return new ChatCompletionResponse(meta.id(), "chat.completion", meta.created(), meta.model().servedName(), out,
                    results.usage(meta.model(), meta.promptTokens(), choices.size()), promptLogprobs(meta, choices, results));
        });
    }

    /**
     * A named function's answer as its tool call, whatever its end (arguments cut by max_tokens are
     * still the call, as OpenAI sends them); null for the rest ({@code "required"} and
     * {@code "auto"} are read by a {@link CallReader}).
     */
    private static List<ChatCompletionResponse.ToolCall> toolCalls(ToolChoices.Plan tools, String text) {
        return tools.mode() == ToolChoices.Mode.NAMED ? ToolCallAnswers.named(tools.newCallId(), tools.function(), text) : null;
    }

    /**
     * An answer of calls ({@code "required"}'s whole array, or {@code "auto"}'s calls) that ended
     * by itself after its last call's arguments ends as {@code tool_calls}, as OpenAI and vLLM end it;
     * the rest keep theirs, so a call whose JSON a stop string cut is not reported as a finished call.
     */
    private static String finishReason(ToolChoices.Plan tools, int calls, boolean endedInArguments, String finish) {
        boolean readsCalls = tools.mode() == ToolChoices.Mode.REQUIRED || tools.mode() == ToolChoices.Mode.AUTO;
        return readsCalls && calls > 0 && !endedInArguments && "stop".equals(finish) ? "tool_calls" : finish;
    }

    /**
     * vLLM's {@code prompt_logprobs}, once for the prompt every choice shares: from the first choice
     * that scored it (a choice cut off before its first output has none).
     */
    private static List<Map<String, PromptLogprob>> promptLogprobs(Meta meta, List<Choices.Choice> choices, ChoiceResults results) {
        if (meta.promptLogprobs() == null) return null;
        for (Choices.Choice c : choices) {
            List<TokenLogprob> scored = results.promptLogprobs(c.index());
            if (scored != null) {
                return LogprobsMapper.vllmPrompt(c.request().promptTokenIds(), scored, meta.model().tokenizer(), meta.promptLogprobs());
            }
        }
        return null;
    }

    /**
     * The SSE frames: a role chunk per choice, a content chunk per output with text (or
     * log-probabilities), a finishing chunk with an empty delta per choice, the usage chunk when
     * asked, then [DONE]. The role chunks wait for the first output (see {@link Sse#frames}).
     * With continuous usage, a choice's chunks carry its counts as of the output they came from; its
     * role chunk, sent before it has any, counts 0.
     */
    static Flux<String> stream(Meta meta, List<Choices.Choice> choices, Flux<Choices.Event> events, StreamUsage usage,
                               ObjectMapper json) {
        ChoiceResults counts = new ChoiceResults(choices.size(), null);
        IntFunction<Object> usageOf = c -> usage.slot(meta::promptTokens, counts.completionTokens(c));
        // A tool-call turn has no content, as OpenAI streams it; a text turn starts with an empty one.
        String content = meta.tools().calls() ? null : "";
        Flux<String> roles = Flux.fromIterable(choices).map(c -> frame(json, meta, c.index(),
                new ChatCompletionChunk.Delta("assistant", content), null, usage.slot(meta::promptTokens, 0)));
        Function<Choices.Event, List<String>> frames = meta.tools().mode() == ToolChoices.Mode.NAMED
                ? namedCallFrames(meta, choices.size(), usageOf, json)
                : meta.tools().format() != null ? readCallFrames(meta, choices.size(), usageOf, json)
                : textFrames(meta, usageOf, json);
        if (meta.thinking() != null) frames = thinkingFirst(meta, choices.size(), frames, usageOf, json);
        Function<Choices.Event, List<String>> body = frames;
        return Sse.frames(roles, events.concatMapIterable(e -> {
            counts.add(e, false);
            return body.apply(e);
        }), usage(meta, choices, counts, usage, json), json);
    }

    /** Plain text: a content chunk per output with text (or log-probabilities), a finishing chunk with an empty delta. */
    private static Function<Choices.Event, List<String>> textFrames(Meta meta, IntFunction<Object> usage, ObjectMapper json) {
        return e -> {
            List<String> frames = new ArrayList<>(2);
            boolean hasLogprobs = meta.logprobs() && !e.output().logprobs().isEmpty();
            if (!e.output().text().isEmpty() || hasLogprobs) {
                ChatLogprobs lp = meta.logprobs() ? LogprobsMapper.chat(e.output().logprobs(), meta.model().tokenizer()) : null;
                frames.add(frame(json, meta, e.choice(), new ChatCompletionChunk.Delta(null, e.output().text()), lp, usage.apply(e.choice())));
            }
            if (e.output().finishReason() != null) {
                frames.add(finishing(json, meta, e.choice(), e.output().finishReason().wire(), e.output(), usage.apply(e.choice())));
            }
            return frames;
        };
    }

    /**
     * A reasoning model's thinking goes out first, as {@code reasoning_content} chunks; what is left
     * of each output's text (the answer) goes on to {@code answer}'s frames. An output that is all
     * thinking carries its log-probabilities on its thinking chunk.
     */
    private static Function<Choices.Event, List<String>> thinkingFirst(Meta meta, int numChoices, Function<Choices.Event, List<String>> answer,
                                                                     IntFunction<Object> usage, ObjectMapper json) {
        ReasoningText[] splitters = new ReasoningText[numChoices];
        for (int i = 0; i < numChoices; i++) splitters[i] = meta.thinking().splitter();
        return e -> {
            int c = e.choice();
            RequestOutput out = e.output();
            ReasoningText.Split split = splitters[c].feed(out.text());
            if (out.finishReason() != null) {
                ReasoningText.Split rest = splitters[c].finish();
                split = new ReasoningText.Split(split.reasoning() + rest.reasoning(), split.content() + rest.content());
            }
            List<String> frames = new ArrayList<>(3);
            boolean logprobsOnThinking = split.content().isEmpty() && meta.logprobs() && !out.logprobs().isEmpty();
            if (!split.reasoning().isEmpty() || logprobsOnThinking) {
                ChatLogprobs lp = logprobsOnThinking ? LogprobsMapper.chat(out.logprobs(), meta.model().tokenizer()) : null;
                frames.add(frame(json, meta, c, ChatCompletionChunk.Delta.reasoning(split.reasoning()), lp, usage.apply(c)));
            }
            RequestOutput rest = new RequestOutput(out.requestId(), split.content(), out.tokenIds(),
                    logprobsOnThinking ? List.of() : out.logprobs(), out.finishReason(), out.promptTokens(), out.completionTokens(),
                    out.promptLogprobs(), out.cachedPromptTokens(), out.stopReason());
            frames.addAll(answer.apply(new Choices.Event(c, rest)));
            return frames;
        };
    }

    private static Mono<String> usage(Meta meta, List<Choices.Choice> choices, ChoiceResults counts, StreamUsage usage,
                                      ObjectMapper json) {
        return !usage.lastChunk() ? Mono.empty() : Mono.fromSupplier(() -> Sse.data(json.writeValueAsString(new ChatCompletionChunk(
                meta.id(), "chat.completion.chunk", meta.created(), meta.model().servedName(), List.of(),
                counts.usage(meta.model(), meta.promptTokens(), choices.size())))));
    }

    /**
     * A named function's chunks: its arguments stream as they come; the first piece of a choice
     * carries the call's id, type and name, the rest only arguments.
     */
    private static Function<Choices.Event, List<String>> namedCallFrames(Meta meta, int numChoices, IntFunction<Object> usage,
                                                                         ObjectMapper json) {
        String[] ids = new String[numChoices];
        return e -> {
            List<String> frames = new ArrayList<>(2);
            int c = e.choice();
            String text = e.output().text();
            boolean hasLogprobs = meta.logprobs() && !e.output().logprobs().isEmpty();
            // The call's first piece waits for its first text (a reasoning model thinks first), or the end.
            if (!text.isEmpty() || hasLogprobs || (ids[c] == null && e.output().finishReason() != null)) {
                boolean first = ids[c] == null;
                if (first) ids[c] = meta.tools().newCallId();
                ChatCompletionChunk.ToolCallDelta call = new ChatCompletionChunk.ToolCallDelta(0, first ? ids[c] : null,
                        first ? "function" : null, new ChatCompletionChunk.FunctionDelta(first ? meta.tools().function() : null, text));
                ChatLogprobs lp = meta.logprobs() ? LogprobsMapper.chat(e.output().logprobs(), meta.model().tokenizer()) : null;
                frames.add(frame(json, meta, c, new ChatCompletionChunk.Delta(null, null, List.of(call)), lp, usage.apply(c)));
            }
            if (e.output().finishReason() != null) {
                frames.add(finishing(json, meta, c, e.output().finishReason().wire(), e.output(), usage.apply(c)));
            }
            return frames;
        };
    }

    /**
     * {@code "auto"}'s and {@code "required"}'s chunks, read by a {@link CallReader}: the answer's
     * text streams as content, held back only where it may be opening a call; a call's first chunk carries its index (counting the choice's calls), id,
     * type and name once they are known, and its arguments follow in pieces as they are written.
     * Log-probabilities ride on the next chunk that goes out, so a token held back keeps its entry.
     */
    private static Function<Choices.Event, List<String>> readCallFrames(Meta meta, int numChoices, IntFunction<Object> usage,
                                                                        ObjectMapper json) {
        CallReader[] readers = new CallReader[numChoices];
        List<List<TokenLogprob>> heldLogprobs = new ArrayList<>();
        // Content that is only blanks so far waits: around calls it is no content, as in the whole response.
        StringBuilder[] blanks = new StringBuilder[numChoices];
        boolean[] wroteText = new boolean[numChoices];
        for (int i = 0; i < numChoices; i++) {
            readers[i] = meta.tools().reader();
            heldLogprobs.add(new ArrayList<>());
            blanks[i] = new StringBuilder();
        }
        return e -> {
            List<String> frames = new ArrayList<>(2);
            int c = e.choice();
            List<TokenLogprob> held = heldLogprobs.get(c);
            if (meta.logprobs()) held.addAll(e.output().logprobs());
            List<ToolCallText.Piece> pieces = new ArrayList<>();
            boolean last = e.output().finishReason() != null;
            List<ToolCallText.Piece> read = new ArrayList<>(readers[c].feed(e.output().text()));
            if (last) read.addAll(readers[c].finish());
            for (ToolCallText.Piece p : read) {
                if (p instanceof ToolCallText.Content text) {
                    blanks[c].append(text.text());
                    if (ToolCallText.blank(blanks[c])) continue;
                    pieces.add(new ToolCallText.Content(blanks[c].toString()));
                    blanks[c].setLength(0);
                } else {
                    pieces.add(p);
                }
            }
            // Held blanks are content unless they are all of it beside calls (text this last event
            // carries counts: the whole response keeps blanks after it).
            for (ToolCallText.Piece p : pieces) if (p instanceof ToolCallText.Content) wroteText[c] = true;
            if (last && !blanks[c].isEmpty() && (readers[c].calls() == 0 || wroteText[c])) {
                pieces.add(new ToolCallText.Content(blanks[c].toString()));
            }
            for (ToolCallText.Piece p : pieces) {
                ChatLogprobs lp = null;
                if (meta.logprobs()) {
                    lp = LogprobsMapper.chat(List.copyOf(held), meta.model().tokenizer());
                    held.clear();
                }
                ChatCompletionChunk.ToolCallDelta call = null;
                if (p instanceof ToolCallText.CallStart start) {
                    call = new ChatCompletionChunk.ToolCallDelta(start.index(), start.call().id(), start.call().type(),
                            new ChatCompletionChunk.FunctionDelta(start.call().function().name(), ""));
                } else if (p instanceof ToolCallText.CallArguments arguments) {
                    call = new ChatCompletionChunk.ToolCallDelta(arguments.index(), null, null,
                            new ChatCompletionChunk.FunctionDelta(null, arguments.text()));
                }
                ChatCompletionChunk.Delta delta = call == null ? new ChatCompletionChunk.Delta(null, ((ToolCallText.Content) p).text())
                        : new ChatCompletionChunk.Delta(null, null, List.of(call));
                frames.add(frame(json, meta, c, delta, lp, usage.apply(c)));
            }
            if (last) {
                if (!held.isEmpty()) {
                    frames.add(frame(json, meta, c, new ChatCompletionChunk.Delta(null, ""),
                            LogprobsMapper.chat(List.copyOf(held), meta.model().tokenizer()), usage.apply(c)));
                    held.clear();
                }
                String finish = e.output().finishReason().wire();
                frames.add(finishing(json, meta, c, finishReason(meta.tools(), readers[c].calls(), readers[c].endedInArguments(), finish),
                        e.output(), usage.apply(c)));
            }
            return frames;
        };
    }

    private static String frame(ObjectMapper json, Meta meta, int index, ChatCompletionChunk.Delta delta, ChatLogprobs lp,
                                Object usage) {
        return chunk(json, meta, new ChatCompletionChunk.ChunkChoice(index, delta, lp, null, null), usage);
    }

    /**
     * A choice's last chunk: an empty delta, its finish reason, and the stop string or token id
     * that ended its output, which a tool-call turn keeps too (vLLM sends it beside {@code tool_calls}).
     */
    private static String finishing(ObjectMapper json, Meta meta, int index, String finish, RequestOutput last, Object usage) {
        Object stopReason = last.stopReason() == null ? null : last.stopReason().wire();
        return chunk(json, meta, new ChatCompletionChunk.ChunkChoice(index, new ChatCompletionChunk.Delta(null, null), null,
                finish, stopReason), usage);
    }

    private static String chunk(ObjectMapper json, Meta meta, ChatCompletionChunk.ChunkChoice choice, Object usage) {
        return Sse.data(json.writeValueAsString(new ChatCompletionChunk(meta.id(), "chat.completion.chunk", meta.created(),
                meta.model().servedName(), List.of(choice), usage)));
    }
}
