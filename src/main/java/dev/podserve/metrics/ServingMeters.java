package dev.podserve.metrics;

import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.podserve.attention.HybridBatch;
import dev.podserve.attention.StepAttention;
import dev.podserve.backend.ComputeBackend;
import dev.podserve.engine.Engine;
import dev.podserve.engine.FinishReason;
import dev.podserve.scheduler.ScheduledSequence;
import dev.podserve.scheduler.SchedulerOutput;
import dev.podserve.scheduler.Sequence;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;

/**
 * The meters of one served model, labelled {@code model_name} as vLLM labels them, and what each
 * engine event records. Names are written as they are scraped: Micrometer's Prometheus convention
 * keeps the colons, takes {@code _total} off a counter's name and the client puts it back, and it
 * adds no {@code _seconds} to a timer already named so. Timers and summaries also expose a
 * {@code _max} gauge beside their histogram, which vLLM lacks and dashboards ignore.
 */
final class ServingMeters {

    static final String MODEL_NAME = "model_name";

    private final Counter promptTokens;
    private final Counter generationTokens;
    private final Counter preemptions;
    private final Counter sampledOnDevice;
    private final Counter drawnOnDevice;
    private final Counter sampledWithStep;
    private final Counter sampledLate;
    private final Map<FinishReason, Counter> finished = new EnumMap<>(FinishReason.class);
    private final Timer timeToFirstToken;
    private final Timer interTokenLatency;
    private final Timer e2eLatency;
    private final Timer queueTime;
    private final DistributionSummary requestPromptTokens;
    private final DistributionSummary requestGenerationTokens;
    private final TextHistogram iterationTokens;
    private final DistributionSummary stepPrefillTokens;
    private final DistributionSummary stepDecodeTokens;
    private final Timer stepForward;
    private final Timer promptScoring;
    private final Counter promptScoredTokens;
    private final Counter tokenMasks;
    private final Timer tokenMaskWork;
    private final Timer tokenMaskWait;
    private final MeterRegistry registry;
    private final Tags tags;
    /** podserve:attention_steps_total per (phases, mode, policy), created on first use. */
    private final Map<StepLabels, Counter> attentionSteps = new java.util.concurrent.ConcurrentHashMap<>();
    /** podserve:step_gpu_seconds and podserve:step_attention_seconds per step labels, created on first use. */
    private final Map<StepLabels, Timer> stepGpu = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<StepLabels, Timer> stepAttention = new java.util.concurrent.ConcurrentHashMap<>();
    /** Prompt tokens the current step completed, observed with its generated tokens once it has sampled. */
    private long stepPrompts;

    ServingMeters(MeterRegistry registry, String modelName, Engine engine) {
        Tags tags = Tags.of(MODEL_NAME, modelName);
        this.registry = registry;
        this.tags = tags;
        Gauge.builder("vllm:num_requests_running", engine, e -> e.stats().running()).tags(tags)
                .description("Number of requests in model execution batches.").strongReference(true).register(registry);
        Gauge.builder("vllm:num_requests_waiting", engine, e -> e.stats().waiting()).tags(tags)
                .description("Number of requests waiting to be processed.").strongReference(true).register(registry);
        Gauge.builder("vllm:kv_cache_usage_perc", engine, e -> e.stats().kvUsage()).tags(tags)
                .description("KV-cache usage. 1 means 100 percent usage.").strongReference(true).register(registry);

        // Read through a weak reference (FunctionCounter has no strong option); the ServingModel holds the engine.
        FunctionCounter.builder("vllm:prefix_cache_queries_total", engine, e -> e.stats().prefixCacheQueries()).tags(tags)
                .description("Prompt tokens of admitted requests looked up in the prefix cache.").register(registry);
        FunctionCounter.builder("vllm:prefix_cache_hits_total", engine, e -> e.stats().prefixCacheHits()).tags(tags)
                .description("Prompt tokens found in the prefix cache instead of computed.").register(registry);

        promptTokens = Counter.builder("vllm:prompt_tokens_total").tags(tags)
                .description("Number of prefill tokens processed.").register(registry);
        generationTokens = Counter.builder("vllm:generation_tokens_total").tags(tags)
                .description("Number of generation tokens processed.").register(registry);
        preemptions = Counter.builder("vllm:num_preemptions_total").tags(tags)
                .description("Cumulative number of preemption from the engine.").register(registry);
        sampledOnDevice = sampledRows(registry, tags, "device_argmax");
        drawnOnDevice = sampledRows(registry, tags, "device_draw");
        sampledWithStep = sampledRows(registry, tags, "host_with_step");
        sampledLate = sampledRows(registry, tags, "host_fetched_late");
        // Every reason exists from the start at 0, so rate() sees the first finish of each kind.
        for (FinishReason reason : FinishReason.values()) {
            finished.put(reason, Counter.builder("vllm:request_success_total").tags(tags)
                    .tag("finished_reason", reason.wire())
                    .description("Count of successfully processed requests.").register(registry));
        }

        timeToFirstToken = timer(registry, tags, "vllm:time_to_first_token_seconds",
                "Histogram of time to first token in seconds.", VllmBuckets.TIME_TO_FIRST_TOKEN_SECONDS);
        interTokenLatency = timer(registry, tags, "vllm:inter_token_latency_seconds",
                "Histogram of inter-token latency in seconds.", VllmBuckets.INTER_TOKEN_LATENCY_SECONDS);
        e2eLatency = timer(registry, tags, "vllm:e2e_request_latency_seconds",
                "Histogram of e2e request latency in seconds.", VllmBuckets.REQUEST_LATENCY_SECONDS);
        queueTime = timer(registry, tags, "vllm:request_queue_time_seconds",
                "Histogram of time spent in WAITING phase for request.", VllmBuckets.REQUEST_LATENCY_SECONDS);
        double[] lengths = VllmBuckets.oneTwoFive(engine.maxModelLen());
        requestPromptTokens = summary(registry, tags, "vllm:request_prompt_tokens",
                "Number of prefill tokens processed.", lengths);
        requestGenerationTokens = summary(registry, tags, "vllm:request_generation_tokens",
                "Number of generation tokens processed.", lengths);
        iterationTokens = new TextHistogram("vllm:iteration_tokens_total", "Histogram of number of tokens per engine_step.",
                MODEL_NAME, modelName, VllmBuckets.ITERATION_TOKENS);

        stepPrefillTokens = summary(registry, tags, "podserve:step_prefill_tokens",
                "Query tokens of multi-token (prefill) rows in each engine step.", VllmBuckets.ITERATION_TOKENS);
        stepDecodeTokens = summary(registry, tags, "podserve:step_decode_tokens",
                "Query tokens of single-token (decode) rows in each engine step.", VllmBuckets.ITERATION_TOKENS);
        stepForward = timer(registry, tags, "podserve:step_forward_seconds",
                "Time of each engine step's forward pass in seconds.", VllmBuckets.STEP_FORWARD_SECONDS);
        promptScoring = timer(registry, tags, "podserve:prompt_scoring_seconds",
                "Time spent after a step scoring its prompt rows (prompt log-probabilities) in seconds.",
                VllmBuckets.STEP_FORWARD_SECONDS);
        promptScoredTokens = Counter.builder("podserve:prompt_scored_tokens_total").tags(tags)
                .description("Prompt tokens scored for prompt log-probabilities (echo with logprobs, prompt_logprobs).")
                .register(registry);
        tokenMasks = Counter.builder("podserve:token_masks_total").tags(tags)
                .description("Structured-output token masks worked out, one per constrained row per step.").register(registry);
        tokenMaskWork = timer(registry, tags, "podserve:token_mask_seconds",
                "Time per step from the start of the forward pass until its structured-output masks were worked out, in seconds.",
                VllmBuckets.STEP_FORWARD_SECONDS);
        tokenMaskWait = timer(registry, tags, "podserve:token_mask_wait_seconds",
                "Time per step the engine waited for its structured-output masks after the forward pass, in seconds.",
                VllmBuckets.STEP_FORWARD_SECONDS);
    }

    private static Timer timer(MeterRegistry registry, Tags tags, String name, String help, double[] buckets) {
        return Timer.builder(name).tags(tags).description(help)
                .serviceLevelObjectives(VllmBuckets.durations(buckets)).register(registry);
    }

    private static DistributionSummary summary(MeterRegistry registry, Tags tags, String name, String help,
                                               double[] buckets) {
        return DistributionSummary.builder(name).tags(tags).description(help)
                .serviceLevelObjectives(buckets).register(registry);
    }

    /**
     * Runs after the forward pass and before sampling, so a sampling row whose sequence has no
     * output yet is about to give its first token: that is when vLLM counts the prompt, once per
     * request even if a preemption later makes it recompute.
     */
    void step(SchedulerOutput out, long forwardNanos) {
        HybridBatch batch = out.batch();
        stepPrefillTokens.record(batch.prefillTokens());
        stepDecodeTokens.record(batch.decodeTokens());
        stepForward.record(forwardNanos, TimeUnit.NANOSECONDS);
        attentionStep(batch);
        long prompts = 0;
        for (ScheduledSequence s : out.scheduled()) {
            if (!s.sample()) continue;
            Sequence sequence = s.sequence();
            if (sequence.numOutputTokens() == 0) prompts += sequence.numPromptTokens();
        }
        if (prompts > 0) promptTokens.increment(prompts);
        // Observed in sampled(): a sampling row of a prompt-only request (max_tokens 0) generates nothing.
        stepPrompts = prompts;
    }

    /**
     * Counts the step under the attention the scheduler chose for it: phases {@code hybrid},
     * {@code prefill} or {@code decode}; mode {@code serial}, {@code streams}, {@code pod}, or
     * {@code backend} where no choice travelled with the batch (the CPU backend has one kernel).
     */
    private void attentionStep(HybridBatch batch) {
        StepLabels step = StepLabels.of(batch);
        attentionSteps.computeIfAbsent(step, k -> Counter.builder("podserve:attention_steps_total").tags(k.tags(tags))
                .description("Engine steps by their phases and the attention mode and SM policy chosen for them.")
                .register(registry)).increment();
    }

    /**
     * A step's labels: its phases ({@code hybrid}, {@code prefill}, {@code decode}), attention mode and
     * policy. A map key, so a step looks its meters up without building tags or strings.
     */
    private record StepLabels(String phases, String mode, String policy) {
        static StepLabels of(HybridBatch batch) {
            String phases = batch.numPrefillRequests() == 0 ? "decode" : batch.numDecodeRequests() == 0 ? "prefill" : "hybrid";
            StepAttention a = batch.attention();
            return new StepLabels(phases, a == null ? "backend" : a.modeLabel(), a == null ? "none" : a.policyLabel());
        }

        Tags tags(Tags model) {
            return model.and("phases", phases, "mode", mode, "policy", policy);
        }
    }

    /**
     * A profiled step ({@code podserve.attention.profile}): its GPU time and its attention's, under
     * the step's labels; the attention share of a kind of step is the ratio of the two sums.
     */
    void stepProfile(SchedulerOutput out, ComputeBackend.StepProfile profile) {
        StepLabels step = StepLabels.of(out.batch());
        stepGpu.computeIfAbsent(step, k -> Timer.builder("podserve:step_gpu_seconds").tags(k.tags(tags))
                .description("GPU time of each profiled engine step (podserve.attention.profile) in seconds.")
                .register(registry)).record((long) (profile.gpuMillis() * 1e6), TimeUnit.NANOSECONDS);
        stepAttention.computeIfAbsent(step, k -> Timer.builder("podserve:step_attention_seconds").tags(k.tags(tags))
                .description("GPU time of the attention kernels of each profiled engine step, all layers, in seconds.")
                .register(registry)).record((long) (profile.attentionMillis() * 1e6), TimeUnit.NANOSECONDS);
    }

    void token(long sincePreviousNanos) {
        generationTokens.increment();
        if (sincePreviousNanos >= 0) interTokenLatency.record(sincePreviousNanos, TimeUnit.NANOSECONDS);
    }

    /** As vLLM observes it: in the step that gave the first token, whatever happens to the request after it. */
    void firstToken(long sinceArrivalNanos) {
        timeToFirstToken.record(sinceArrivalNanos, TimeUnit.NANOSECONDS);
    }

    void preempted(int count) {
        preemptions.increment(count);
    }

    void promptsScored(int rows, long nanos) {
        promptScoring.record(nanos, TimeUnit.NANOSECONDS);
        promptScoredTokens.increment(rows);
    }

    void tokenMasks(int rows, long workNanos, long waitNanos) {
        tokenMasks.increment(rows);
        tokenMaskWork.record(workNanos, TimeUnit.NANOSECONDS);
        tokenMaskWait.record(waitNanos, TimeUnit.NANOSECONDS);
    }

    void sampled(int fromDeviceArgmax, int drawn, int withStep, int late) {
        // vLLM's "tokens per step" is prompt tokens completed plus tokens generated, not the batch size.
        iterationTokens.observe(stepPrompts + fromDeviceArgmax + drawn + withStep + late);
        stepPrompts = 0;
        if (fromDeviceArgmax > 0) sampledOnDevice.increment(fromDeviceArgmax);
        if (drawn > 0) drawnOnDevice.increment(drawn);
        if (withStep > 0) sampledWithStep.increment(withStep);
        if (late > 0) sampledLate.increment(late);
    }

    private static Counter sampledRows(MeterRegistry registry, Tags tags, String where) {
        return Counter.builder("podserve:sampled_rows_total").tags(tags).tag("where", where)
                .description("Sampled rows by where their token was picked: the backend's argmax or its draw at a"
                        + " temperature, or on the host over logits copied with the step or fetched after it.").register(registry);
    }

    /** Time to first token is not here: {@link #firstToken} records it when the token comes. */
    void finished(FinishReason reason, int promptTokens, int completionTokens, long queueNanos, long e2eNanos) {
        // A failed request did not finish; its times would mix errors into serving latency.
        if (reason == null) return;
        e2eLatency.record(e2eNanos, TimeUnit.NANOSECONDS);
        queueTime.record(queueNanos, TimeUnit.NANOSECONDS);
        requestPromptTokens.record(promptTokens);
        requestGenerationTokens.record(completionTokens);
        // Last, so a reader that sees the count move sees this request in the histograms too.
        finished.get(reason).increment();
    }

    void appendUnregistered(StringBuilder out) {
        iterationTokens.appendTo(out);
    }
}
