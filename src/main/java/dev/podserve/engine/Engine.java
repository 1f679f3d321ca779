package dev.podserve.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.podserve.backend.ComputeBackend;
import dev.podserve.sampling.SampleResult;
import dev.podserve.sampling.SamplingParams;
import dev.podserve.sampling.SamplingState;
import dev.podserve.scheduler.ChunkedPrefillScheduler;
import dev.podserve.scheduler.ScheduledSequence;
import dev.podserve.scheduler.SchedulerOutput;
import dev.podserve.scheduler.SchedulingPolicy;
import dev.podserve.scheduler.Sequence;
import dev.podserve.tokenizer.HfTokenizer;
import dev.podserve.tokenizer.IncrementalDetokenizer;
import dev.podserve.structured.VocabularyTrie;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Sinks;

/**
 * The serving loop. One thread owns the scheduler, the backend and every request's state, and
 * repeats: take new requests and aborts, schedule a hybrid batch, run the forward pass, sample,
 * emit. Other threads talk to it only through its inbox, so nothing below needs locks.
 */
public final class Engine implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Engine.class);

    private sealed interface Command permits Add, Abort, AbortAll, Stop { }
    private record Add(ActiveRequest request) implements Command { }
    private record Abort(String requestId) implements Command { }
    private record AbortAll(RuntimeException ifNotStarted) implements Command { }
    private record Stop() implements Command { }

    private final ComputeBackend backend;
    private final ChunkedPrefillScheduler scheduler;
    private final HfTokenizer tokenizer;
    /** Built in the background from the start (a 128K vocabulary takes a few hundred milliseconds). */
    private final java.util.concurrent.CompletableFuture<VocabularyTrie> vocabularyTrie;
    private final int maxModelLen;
    private final int[] eosTokenIds;
    private final EngineListener listener;
    /** Every signal to a request's sink goes through here (see {@link OutputDelivery} on why and on order). */
    private final OutputDelivery outputs;

    private final LinkedBlockingQueue<Command> inbox = new LinkedBlockingQueue<>();
    /** Requests the engine thread knows, in arrival order. */
    private final Map<String, ActiveRequest> active = new LinkedHashMap<>();
    /** How many of them carry deadlines, so a loop without any skips the scan. */
    private int withDeadlines;
    /** How many of them ask for prompt log-probabilities, so steps without any skip the scoring. */
    private int scoring;
    private final PromptScoring promptScoring;
    private final Thread thread;
    private volatile boolean accepting = true;
    private final AtomicLong steps = new AtomicLong();
    private final StepSampling sampling;
    private volatile EngineStats stats = new EngineStats(0, 0, 0.0, 0, 0, 0, 0);

    public Engine(ComputeBackend backend, ChunkedPrefillScheduler scheduler, HfTokenizer tokenizer,
                  int maxModelLen, int[] eosTokenIds, EngineListener listener) {
        this.backend = backend;
        this.scheduler = scheduler;
        this.tokenizer = tokenizer;
        this.maxModelLen = maxModelLen;
        this.eosTokenIds = eosTokenIds.clone();
        Arrays.sort(this.eosTokenIds);
        // Metrics must never break serving: a listener that throws is logged, not propagated into
        // the loop (where it would end a response without its terminal signal, or the loop itself).
        this.listener = IsolatedListener.of(listener);
        this.sampling = new StepSampling(this.listener);
        this.promptScoring = new PromptScoring(this.listener);
        this.outputs = backend.usesHostCores() ? OutputDelivery.inline() : OutputDelivery.onOwnThread("podserve-outputs");
        this.vocabularyTrie = java.util.concurrent.CompletableFuture.supplyAsync(
                () -> StructuredVocabulary.of(tokenizer, backend.config().vocabSize()));
        this.thread = new Thread(this::loop, "podserve-engine");
        this.thread.setDaemon(true);
        this.thread.start();
    }

    public int maxModelLen() {
        return maxModelLen;
    }

    /**
     * Most tokens one request may hold, prompt and output together: the context length, or the
     * whole KV cache when that holds less (a pool smaller than one full-length request is allowed).
     */
    public int maxRequestTokens() {
        return scheduler.maxSequenceTokens();
    }

    /** Whether the KV cache reuses computed prompt prefixes across requests. */
    public boolean prefixCaching() {
        return scheduler.prefixCaching();
    }

    public int[] eosTokenIds() {
        return eosTokenIds.clone();
    }

    public EngineStats stats() {
        return stats;
    }

    /** False once the engine stopped taking requests (shut down, or its loop died). */
    public boolean isServing() {
        return accepting && thread.isAlive();
    }

    /**
     * Checks a request and returns its outputs, one per step that produced text or tokens; the
     * last carries the finish reason. The request enters the queue when the Flux is subscribed,
     * so a caller that never subscribes leaves nothing behind; cancelling the subscription aborts
     * the request and its KV pages are freed at the next step boundary.
     *
     * @throws RequestRejectedException     the request can never be served as asked
     * @throws dev.podserve.sampling.InvalidSamplingParamException a sampling parameter is out of range
     * @throws EngineUnavailableException  the engine is shutting down
     */
    public Flux<RequestOutput> submit(GenerationRequest request) {
        validate(request);
        if (!accepting) throw new EngineUnavailableException("the engine is shutting down");
        return Flux.defer(() -> {
            if (!accepting) return Flux.error(new EngineUnavailableException("the engine is shutting down"));
            Sinks.Many<RequestOutput> sink = Sinks.many().unicast().onBackpressureBuffer();
            Sequence sequence = new Sequence(request.requestId(), request.promptTokenIds());
            sequence.cacheSalt(request.cacheSalt());
            sequence.priority(request.priority());
            if (request.params().promptLogprobs() != null) {
                // Scoring needs a row for every prompt position, so none may come from the cache.
                sequence.computeWholePrompt();
            }
            SamplingState sampling = new SamplingState(request.params(), request.promptTokenIds(), eosTokenIds,
                    backend.config().vocabSize());
            if (request.grammar() != null) sampling.constrain(request.grammar().constraint(vocabularyTrie(), eosTokenIds));
            IncrementalDetokenizer detokenizer =
                    new IncrementalDetokenizer(tokenizer, request.promptTokenIds(), request.skipSpecialTokens());
            long arrival = request.deadlines().knowsArrival() ? request.deadlines().arrivalNanos() : System.nanoTime();
            Add add = new Add(new ActiveRequest(request, sequence, sampling, detokenizer, sink, arrival));
            inbox.add(add);
            // The loop may have ended between the check above and the add, after its last drain of
            // the inbox: then nobody would ever answer. Whichever side removes the Add answers it.
            if (!accepting && inbox.remove(add)) return Flux.error(new EngineUnavailableException("the engine is shutting down"));
            return sink.asFlux().doOnCancel(() -> abort(request.requestId()));
        });
    }

    /** Whether the backend's forward pass computes on the host's cores ({@link ComputeBackend#usesHostCores}). */
    public boolean forwardUsesHostCores() {
        return backend.usesHostCores();
    }

    /** Aborts a request wherever it is; its KV pages return at the next step boundary. */
    public void abort(String requestId) {
        inbox.add(new Abort(requestId));
    }

    /**
     * Ends every request: one not yet scheduled fails with {@code ifNotStarted} (nothing was done
     * for it, so its client may retry elsewhere); one already running finishes at once with
     * {@link FinishReason#ABORT}. Their KV pages return at the next step boundary. For shutdown.
     */
    public void abortAll(RuntimeException ifNotStarted) {
        inbox.add(new AbortAll(ifNotStarted));
    }

    /** Steps run so far (for tests and metrics). */
    public long stepCount() {
        return steps.get();
    }

    /** Throws what {@link #submit} would for a request that can never be served; queues nothing. */
    public void validate(GenerationRequest request) {
        int[] prompt = request.promptTokenIds();
        SamplingParams params = request.params();
        int vocab = backend.config().vocabSize();
        params.validate(vocab);
        if (prompt.length == 0) {
            throw new RequestRejectedException("prompt", "The prompt is empty: at least one token is required.");
        }
        for (int id : prompt) {
            if (id < 0 || id >= vocab) {
                throw new RequestRejectedException("prompt",
                        "Token id " + id + " is out of vocabulary range [0, " + vocab + ").");
            }
        }
        long total = (long) prompt.length + params.maxTokens();
        if (total > maxModelLen) {
            throw new RequestRejectedException("max_tokens", "This model's maximum context length is " + maxModelLen
                    + " tokens. However, you requested " + total + " tokens (" + prompt.length + " in the prompt, "
                    + params.maxTokens() + " for the completion). Please reduce the prompt or max_tokens.");
        }
        long kvTokens = (long) backend.numKvBlocks() * backend.pageSize();
        if (total > kvTokens) {
            throw new RequestRejectedException("max_tokens", "The request needs " + total
                    + " tokens of KV cache but the whole cache holds " + kvTokens + " tokens.");
        }
        if (request.priority() != 0 && scheduler.settings().policy() == SchedulingPolicy.FCFS) {
            // Refused rather than ignored, as vLLM does: the client believes the request is urgent.
            throw new RequestRejectedException("priority", "This server schedules first come, first served "
                    + "(podserve.scheduler.policy=fcfs), so it cannot honour priority " + request.priority()
                    + ". Send priority 0 or leave it out, or start the server with podserve.scheduler.policy=priority.");
        }
        if (request.grammar() != null && request.grammar().bindsEnd() && params.ignoreEos()) {
            // The format's end is the end token; generating past it would leave the format.
            throw new RequestRejectedException("ignore_eos", "ignore_eos cannot be combined with a structured output (response_format, structured_outputs or a forced tool call).");
        }
    }

    /**
     * Every token's bytes in a prefix tree, for structured outputs. Built in the background when the
     * engine starts, so only a structured request in its first moments waits for it.
     */
    public VocabularyTrie vocabularyTrie() {
        return vocabularyTrie.join();
    }

    // ---------------------------------------------------------------- the engine thread

    private void loop() {
        try {
            boolean stalled = false;
            while (true) {
                boolean idle = scheduler.numRunning() == 0 && scheduler.numWaiting() == 0;
                // Idle: sleep until a command comes. Stalled (work queued, none fits this step, all
                // pages held by requests that cannot run): wait a moment for an abort or arrival
                // rather than spin. Otherwise take what is there and step.
                long waitNanos = idle ? -1 : stalled ? TimeUnit.MILLISECONDS.toNanos(1) : 0;
                if (!drainInbox(waitNanos)) break;
                expireOverdue();
                SchedulerOutput out = scheduler.schedule();
                if (!out.preempted().isEmpty()) listener.onPreempted(out.preempted().size());
                stalled = out.isEmpty();
                if (!stalled) step(out);
                publishStats();
                outputs.flush();
            }
        } catch (Throwable t) {
            log.error("engine loop died", t);
        } finally {
            accepting = false;
            failAll(new EngineUnavailableException("the engine shut down before the request finished"));
            // The gauges read this snapshot: without it they would report the failed requests and
            // their pages as still held, for good.
            publishStats();
            outputs.close();
        }
    }

    /**
     * Applies queued commands in the order they came, waiting for the first one up to
     * {@code waitNanos} (negative: as long as it takes). Returns false on stop.
     */
    private boolean drainInbox(long waitNanos) throws InterruptedException {
        Command c = waitNanos < 0 ? inbox.take() : waitNanos == 0 ? inbox.poll() : inbox.poll(waitNanos, TimeUnit.NANOSECONDS);
        while (c != null) {
            if (c instanceof Add add) {
                admit(add.request());
            } else if (c instanceof Abort abort) {
                abortNow(abort.requestId());
            } else if (c instanceof AbortAll all) {
                for (String id : new ArrayList<>(active.keySet())) end(id, all.ifNotStarted());
            } else {
                return false;
            }
            c = inbox.poll();
        }
        return true;
    }

    private void admit(ActiveRequest r) {
        if (active.containsKey(r.id())) {
            RequestRejectedException duplicate = new RequestRejectedException(null, "A request with id " + r.id() + " is already running.");
            outputs.emit(() -> r.sink.tryEmitError(duplicate));
            return;
        }
        try {
            scheduler.add(r.sequence);
        } catch (IllegalArgumentException e) {
            // submit() checked the limits already; this guards the loop, which must not die on one request.
            RequestRejectedException rejected = new RequestRejectedException(null, e.getMessage());
            outputs.emit(() -> r.sink.tryEmitError(rejected));
            return;
        }
        active.put(r.id(), r);
        if (r.request.deadlines().any()) withDeadlines++;
        if (r.promptLogprobs != null) scoring++;
    }

    /**
     * Ends the requests past a deadline, between steps, so their pages are free before the next
     * schedule. A step in progress is never cut short: the check is as fine as one step.
     */
    private void expireOverdue() {
        if (withDeadlines == 0) return;
        long now = System.nanoTime();
        List<ActiveRequest> overdue = null;
        for (ActiveRequest r : active.values()) {
            Deadlines d = r.request.deadlines();
            boolean waiting = r.firstScheduledNanos < 0;
            if ((waiting && d.startPassed(now)) || d.finishPassed(now)) {
                if (overdue == null) overdue = new ArrayList<>();
                overdue.add(r);
            }
        }
        if (overdue == null) return;
        for (ActiveRequest r : overdue) {
            boolean waiting = neverStarted(r);
            long waitedMs = (now - r.arrivalNanos) / 1_000_000;
            if (waiting) {
                log.info("request {} not scheduled {} ms after it was queued: past its deadline, withdrawn", r.id(), waitedMs);
            } else {
                log.info("request {} still running {} ms after it was queued, {} tokens out: past its deadline, aborted",
                        r.id(), waitedMs, r.sampling.numOutputTokens());
            }
            end(r.id(), new QueueTimeoutException("The request could not start before its deadline: the server is busy."));
        }
    }

    /**
     * Fails a request whose response never ran with {@code ifNotStarted}; finishes one that ran, or
     * a choice whose siblings did, with ABORT.
     */
    private void end(String requestId, RuntimeException ifNotStarted) {
        ActiveRequest r = active.get(requestId);
        if (r == null) return;
        if (neverStarted(r)) fail(requestId, ifNotStarted);
        else abortNow(requestId);
    }

    /** Neither this request nor any other choice of its response has been scheduled. */
    private static boolean neverStarted(ActiveRequest r) {
        return r.firstScheduledNanos < 0 && !r.request.deadlines().responseStarted();
    }

    /** Forgets a request the engine no longer tracks. */
    private ActiveRequest remove(String requestId) {
        ActiveRequest r = active.remove(requestId);
        if (r != null && r.request.deadlines().any()) withDeadlines--;
        if (r != null && r.promptLogprobs != null) scoring--;
        return r;
    }

    private void step(SchedulerOutput out) {
        long now = System.nanoTime();
        for (ScheduledSequence s : out.scheduled()) {
            ActiveRequest r = active.get(s.sequence().requestId());
            if (r != null && r.firstScheduledNanos < 0) {
                r.firstScheduledNanos = now;
                r.request.deadlines().markResponseStarted();
            }
        }
        List<ActiveRequest> rows = new ArrayList<>();
        // Requests with max_tokens 0 reach their last prompt row here and end without a token.
        List<ActiveRequest> promptOnly = new ArrayList<>();
        for (ScheduledSequence s : out.scheduled()) {
            if (!s.sample()) continue;
            ActiveRequest r = active.get(s.sequence().requestId());
            boolean generates = r == null || r.request.params().maxTokens() > 0;
            rows.add(generates ? r : null);
            if (!generates) promptOnly.add(r);
        }
        StepSampling.Plan plan = StepSampling.plan(rows, backend.drawsOnDevice(), backend.masksOnDevice());
        ComputeBackend.StepOutput result;
        try {
            result = plan.forward(backend, out.batch());
        } catch (RuntimeException | Error e) {
            log.error("forward pass failed for a batch of {} requests; failing them and going on", out.scheduled().size(), e);
            for (ScheduledSequence s : out.scheduled()) {
                fail(s.sequence().requestId(), new StepFailedException("the compute step failed: " + e, e));
            }
            return;
        }
        long forwardNanos = System.nanoTime() - now;
        steps.incrementAndGet();
        scheduler.onStepComplete(out);
        listener.onStep(out, forwardNanos);
        ComputeBackend.StepProfile profile = backend.lastStepProfile();
        if (profile != null) listener.onStepProfile(out, profile);
        Object[] samples = sampling.sampleAll(rows, result, plan);
        // After sampling: the prompt rows' logits may reuse the buffer the sampled rows were fetched from.
        if (scoring > 0) {
            promptScoring.score(backend, out, active::get).forEach((r, e) -> {
                log.error("prompt log-probabilities failed for request {}", r.id(), e);
                fail(r.id(), new StepFailedException("prompt log-probabilities failed: " + e, e));
            });
        }
        for (ActiveRequest r : promptOnly) {
            if (active.get(r.id()) != r) continue;
            try {
                RequestOutput output = new RequestOutput(r.id(), "", new int[0], List.of(), FinishReason.LENGTH,
                        r.sequence.numPromptTokens(), 0, r.takePromptLogprobs(), r.sequence.numCachedTokens(), null);
                outputs.emit(() -> r.sink.tryEmitNext(output));
                complete(r, FinishReason.LENGTH);
            } catch (RuntimeException e) {
                log.error("request {} could not finish its prompt", r.id(), e);
                fail(r.id(), new StepFailedException("the prompt's results failed: " + e, e));
            }
        }
        for (int i = 0; i < rows.size(); i++) {
            ActiveRequest r = rows.get(i);
            if (r == null || active.get(r.id()) != r) continue;
            try {
                if (samples[i] instanceof RuntimeException e) throw e;
                advance(r, (SampleResult) samples[i]);
            } catch (RuntimeException e) {
                log.error("sampling failed for request {}", r.id(), e);
                fail(r.id(), new StepFailedException("sampling failed: " + e, e));
            }
        }
    }

    /** Takes r's sampled token, updates its text and decides whether it finished. */
    private void advance(ActiveRequest r, SampleResult sample) {
        int token = sample.token();
        r.sequence.appendToken(token);
        r.sampling.accept(token);
        long now = System.nanoTime();
        listener.onToken(r.id(), r.lastTokenNanos < 0 ? -1 : now - r.lastTokenNanos);
        if (r.firstTokenNanos < 0) {
            r.firstTokenNanos = now;
            listener.onFirstToken(r.id(), now - r.arrivalNanos);
        }
        r.lastTokenNanos = now;

        SamplingParams p = r.request.params();
        int generated = r.sampling.numOutputTokens();
        boolean pastMin = generated >= p.minTokens();
        boolean eos = !p.ignoreEos() && Arrays.binarySearch(eosTokenIds, token) >= 0;
        boolean stopId = p.stopTokenIds().contains(token);
        FinishReason finish = null;
        String text;
        if (pastMin && (eos || stopId)) {
            // The terminating token is counted; its text is part of the answer only with
            // include_stop_str_in_output, as vLLM's detokenizer keeps it then.
            finish = FinishReason.STOP;
            String own = p.includeStopStrInOutput() ? r.detokenizer.push(token) : "";
            text = r.stopMatcher.finish(own + r.detokenizer.flush());
        } else {
            String delta = r.detokenizer.push(token);
            // Stop strings count only once min_tokens is reached, as vLLM does.
            text = r.stopMatcher.offer(delta, pastMin);
            if (r.stopMatcher.stopped()) {
                finish = FinishReason.STOP;
            } else if (r.sampling.outputComplete()) {
                // The structured output is whole and nothing may follow: end now rather than spend a
                // step on the one token allowed.
                finish = FinishReason.STOP;
                text += r.stopMatcher.finish(r.detokenizer.flush());
            } else if (generated >= p.maxTokens() || r.sequence.numTokens() >= maxModelLen) {
                finish = FinishReason.LENGTH;
                text += r.stopMatcher.finish(r.detokenizer.flush());
                if (r.stopMatcher.stopped()) finish = FinishReason.STOP;
            }
        }
        List<TokenLogprob> logprobs = p.logprobs() == null ? List.of()
                : List.of(new TokenLogprob(token, sample.logprob(), sample.topTokens(), sample.topLogprobs()));
        // A stop string completed at the end wins over the token that ended it, as in vLLM, whose
        // string check runs after the token check and overrides it.
        StopReason why = finish != FinishReason.STOP ? null
                : r.stopMatcher.stopped() ? new StopReason.Text(r.stopMatcher.stoppedAt())
                : pastMin && (eos || stopId) ? tokenStopReason(eos, token) : null;
        RequestOutput output = new RequestOutput(r.id(), text, new int[] {token}, logprobs, finish,
                r.sequence.numPromptTokens(), generated, r.takePromptLogprobs(), r.sequence.numCachedTokens(), why);
        outputs.emit(() -> r.sink.tryEmitNext(output));
        if (finish != null) complete(r, finish);
    }

    /**
     * What a stopping token reports, as vLLM reports it: the tokenizer's end token nothing, even where
     * {@code stop_token_ids} lists it too (vLLM checks it first); any other id itself, the model's
     * further end ids from its config files included, since vLLM stops on those as stop token ids.
     */
    private StopReason tokenStopReason(boolean eos, int token) {
        boolean tokenizersEnd = eos && tokenizer.eosTokenId().isPresent() && tokenizer.eosTokenId().getAsInt() == token;
        return tokenizersEnd ? null : new StopReason.Token(token);
    }

    private void complete(ActiveRequest r, FinishReason reason) {
        scheduler.finish(r.sequence);
        remove(r.id());
        // Report before completing, so whoever sees the response end also sees it in the metrics.
        report(r, reason);
        outputs.emit(r.sink::tryEmitComplete);
    }

    private void abortNow(String requestId) {
        ActiveRequest r = remove(requestId);
        scheduler.abort(requestId);
        if (r == null) return;
        report(r, FinishReason.ABORT);
        // A deadline's abort still answers with the text so far: what the detokenizer and the stop
        // matcher held back is final now (a cancelled client never reads it).
        String rest = r.stopMatcher.stopped() ? "" : r.stopMatcher.finish(r.detokenizer.flush());
        RequestOutput aborted = new RequestOutput(r.id(), rest, new int[0], List.of(), FinishReason.ABORT,
                r.sequence.numPromptTokens(), r.sampling.numOutputTokens(), null, r.sequence.numCachedTokens(), null);
        outputs.emit(() -> {
            r.sink.tryEmitNext(aborted);
            r.sink.tryEmitComplete();
        });
    }

    private void fail(String requestId, RuntimeException error) {
        ActiveRequest r = remove(requestId);
        scheduler.abort(requestId);
        if (r == null) return;
        // Metrics first, as complete() does: whoever sees the failure also sees it counted.
        report(r, null);
        outputs.emit(() -> r.sink.tryEmitError(error));
    }

    private void failAll(RuntimeException error) {
        for (String id : new ArrayList<>(active.keySet())) fail(id, error);
        for (Command c; (c = inbox.poll()) != null; ) {
            if (c instanceof Add add) outputs.emit(() -> add.request().sink.tryEmitError(error));
        }
    }

    private void report(ActiveRequest r, FinishReason reason) {
        long end = System.nanoTime();
        long started = r.firstScheduledNanos < 0 ? end : r.firstScheduledNanos;
        listener.onFinished(r.id(), reason, r.sequence.numPromptTokens(), r.sampling.numOutputTokens(),
                started - r.arrivalNanos, r.firstTokenNanos < 0 ? -1 : r.firstTokenNanos - r.arrivalNanos,
                end - r.arrivalNanos);
    }

    private void publishStats() {
        stats = new EngineStats(scheduler.numRunning(), scheduler.numWaiting(), scheduler.kvUsage(),
                scheduler.numPreemptions(), steps.get(), scheduler.prefixCacheQueriedTokens(), scheduler.prefixCacheHitTokens());
    }

    /** Stops taking requests, ends the loop and fails whatever was still pending. */
    @Override
    public void close() {
        accepting = false;
        inbox.add(new Stop());
        try {
            thread.join(TimeUnit.SECONDS.toMillis(30));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        backend.close();
    }
}
