package dev.podserve.config;

import java.time.Duration;
import java.util.List;

import jakarta.validation.Valid;
import jakarta.validation.constraints.AssertTrue;
import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import jakarta.validation.constraints.Pattern;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.util.unit.DataSize;
import org.springframework.validation.annotation.Validated;

/**
 * Everything under {@code podserve.*}. One root record so that rules spanning sections (the token
 * budget against the page size, say) are checked in one place when the application starts.
 */
@Validated
@ConfigurationProperties("podserve")
public record PodserveProperties(
        @Valid @NotNull @DefaultValue Model model,
        @Valid @NotNull @DefaultValue Scheduler scheduler,
        @Valid @NotNull @DefaultValue KvCache kvCache,
        @Valid @NotNull @DefaultValue Cpu cpu,
        @Valid @NotNull @DefaultValue Api api,
        @Valid @NotNull @DefaultValue Resilience resilience,
        @Valid @NotNull @DefaultValue Security security,
        @Valid @NotNull @DefaultValue Attention attention,
        @NotNull @DefaultValue("auto") @Pattern(regexp = "auto|cuda|cpu", message = "must be 'auto', 'cuda' or 'cpu'") String backend) {

    /**
     * Longest duration a setting takes. Deadlines and timers count in nanoseconds, which a long
     * overflows after 292 years: "1000000d" meant as "no limit" would make every request fail at
     * admission. 0 is the way to say no limit where a setting has one.
     */
    static final int MAX_DURATION_DAYS = 36_500;

    static boolean inRange(Duration d) {
        return !d.isNegative() && d.compareTo(Duration.ofDays(MAX_DURATION_DAYS)) <= 0;
    }

    /**
     * @param path       a HuggingFace model folder; unset means the embedded default model
     * @param loadFormat {@code auto} reads weights from the folder, {@code dummy} draws them from {@code seed}
     *                   (vLLM's {@code --load-format dummy}); the embedded default is always dummy
     * @param seed       seed of dummy weights
     * @param servedName the id in {@code /v1/models}; default: the folder name
     * @param chatTemplate a Jinja file that replaces the checkpoint's chat template
     * @param toolCallFormat how the model writes tool calls in its answers, read when {@code tool_choice}
     *                   is {@code "auto"}: {@code hermes}, {@code llama3_json}, {@code mistral}, {@code mistral_v11},
     *                   {@code qwen3_coder}, {@code none}, or {@code auto} to tell from the chat template
     * @param reasoningFormat how a reasoning model sets its thinking apart ({@code think}: {@code <think>...</think>}),
     *                   which goes to {@code reasoning_content}; {@code none}; or {@code auto}: {@code think}
     *                   where the chat template writes {@code </think>}
     */
    public record Model(
            String path,
            @NotNull @DefaultValue("auto") @Pattern(regexp = "auto|dummy", message = "must be 'auto' or 'dummy'") String loadFormat,
            @DefaultValue("20250302") long seed,
            String servedName,
            String chatTemplate,
            @NotNull @DefaultValue("auto") @Pattern(regexp = "auto|hermes|llama3_json|mistral|mistral_v11|qwen3_coder|none",
                    message = "must be auto, hermes, llama3_json, mistral, mistral_v11, qwen3_coder or none") String toolCallFormat,
            @NotNull @DefaultValue("auto") @Pattern(regexp = "auto|think|none", message = "must be auto, think or none")
            String reasoningFormat) {
    }

    /**
     * @param maxNumBatchedTokens        token budget of one step (prefill chunks plus decodes)
     * @param maxNumSeqs                 requests running at once
     * @param longPrefillTokenThreshold  largest prefill chunk one request gets per step; 0: no limit beyond the budget
     * @param maxModelLen                context length served; 0: the model's {@code max_position_embeddings}
     * @param stepTrace                  a file that gets one CSV line per engine step (what ran, how long, the
     *                                   host's gap before it); empty: off. For finding which steps make a
     *                                   latency tail, which percentiles of requests cannot show
     * @param kvAdmission                {@code headroom}: a waiting prompt is admitted only when the free KV
     *                                   pages hold all of it and the running sequences' growth until it is
     *                                   prefilled; {@code greedy}: as soon as its first chunk fits (vLLM's
     *                                   v1 rule), which under KV pressure evicts half-prefilled prompts
     * @param waitForSharedPrefix        with prefix caching, a waiting prompt whose next KV page a running one
     *                                   is computing from the same tokens (the other choices of an {@code n > 1}
     *                                   request, a burst of requests with one system prompt) waits for that page
     *                                   instead of computing it as well; false: both compute it
     * @param policy                     {@code fcfs}: requests are admitted in arrival order and the newest
     *                                   running one is preempted first, and a request's {@code priority} must be
     *                                   0; {@code priority}: by {@code priority} (lower first), then arrival, and
     *                                   the last running one in that order is preempted first (vLLM's
     *                                   {@code --scheduling-policy})
     */
    public record Scheduler(
            @Min(value = 1, message = "must be at least 1") @DefaultValue("512") int maxNumBatchedTokens,
            @Min(value = 1, message = "must be at least 1") @DefaultValue("64") int maxNumSeqs,
            @Min(value = 0, message = "must be 0 (off) or positive") @DefaultValue("256") int longPrefillTokenThreshold,
            @Min(value = 0, message = "must be 0 (the model's) or positive") @DefaultValue("0") int maxModelLen,
            @NotNull @DefaultValue("") String stepTrace,
            @NotNull @DefaultValue("headroom") @Pattern(regexp = "headroom|greedy", message = "must be 'headroom' or 'greedy'")
            String kvAdmission,
            @DefaultValue("true") boolean waitForSharedPrefix,
            @NotNull @DefaultValue("fcfs") @Pattern(regexp = "fcfs|priority", message = "must be 'fcfs' or 'priority'")
            String policy) {

        @AssertTrue(message = "max-num-batched-tokens must be at least max-num-seqs, or running decodes could be stalled")
        public boolean isBudgetCoversSeqs() {
            return maxNumBatchedTokens >= maxNumSeqs;
        }
    }

    /**
     * @param blockSize tokens per KV page
     * @param memory    memory given to KV pages; ignored when {@code numBlocks} is set
     * @param numBlocks an exact page count (0: derive from {@code memory})
     * @param prefixCaching whether a request starts on full pages another request already computed for the
     *                  same leading tokens (kept, idle, until the pool needs them)
     */
    public record KvCache(
            @Min(value = 1, message = "must be at least 1") @Max(value = 1024, message = "must be at most 1024") @DefaultValue("16") int blockSize,
            @NotNull @DefaultValue("256MB") DataSize memory,
            @Min(value = 0, message = "must be 0 (derive from memory) or positive") @DefaultValue("0") int numBlocks,
            @DefaultValue("true") boolean prefixCaching) {

        @AssertTrue(message = "memory must be positive when num-blocks is not set")
        public boolean isMemoryPositive() {
            return numBlocks > 0 || memory.toBytes() > 0;
        }
    }

    /**
     * @param keepAlive          a {@code : ping} comment is sent on a stream after this long without an
     *                           event, so proxies keep the connection and dead sockets are noticed (0: never)
     * @param corsAllowedOrigins origins whose browser pages may call the API ({@code *}: any); empty: no
     *                           CORS headers, so browsers refuse cross-origin calls
     */
    public record Api(@NotNull @DefaultValue("15s") Duration keepAlive, @DefaultValue({}) List<String> corsAllowedOrigins) {

        public Api {
            corsAllowedOrigins = corsAllowedOrigins == null ? List.of() : List.copyOf(corsAllowedOrigins);
        }

        @AssertTrue(message = "keep-alive must be 0 (never) or positive, and at most " + MAX_DURATION_DAYS + " days")
        public boolean isKeepAliveInRange() {
            return inRange(keepAlive);
        }
    }

    /**
     * How the server protects itself from more work than it can do, and from a failing backend.
     *
     * @param maxConcurrentRequests generation requests whose choices are in the engine at once (the bulkhead)
     * @param maxWaitingRequests    requests waiting for one of those places; beyond both, 429 at once
     * @param maxQueueTime          longest a request may wait, for a place and then in the engine's queue, before its
     *                              first step; beyond it, 429 (0: no limit)
     * @param requestTimeout        longest a request may take from arrival to its last token; beyond it, its unfinished
     *                              choices end with {@code finish_reason} "abort" (0: no limit)
     * @param retryAfter            the {@code Retry-After} sent with an overload 429
     * @param shutdownGracePeriod   on shutdown, how long running requests may take to finish before they are aborted
     */
    public record Resilience(
            @Min(value = 1, message = "must be at least 1") @DefaultValue("64") int maxConcurrentRequests,
            @Min(value = 0, message = "must be 0 (no queue) or positive") @DefaultValue("256") int maxWaitingRequests,
            @NotNull @DefaultValue("60s") Duration maxQueueTime,
            @NotNull @DefaultValue("10m") Duration requestTimeout,
            @NotNull @DefaultValue("1s") Duration retryAfter,
            @Valid @NotNull @DefaultValue RateLimit rateLimit,
            @Valid @NotNull @DefaultValue CircuitBreaker circuitBreaker,
            @NotNull @DefaultValue("25s") Duration shutdownGracePeriod) {

        @AssertTrue(message = "max-queue-time, request-timeout, retry-after and shutdown-grace-period must not be negative,"
                + " and at most " + MAX_DURATION_DAYS + " days (0 is no limit)")
        public boolean isDurationsInRange() {
            return inRange(maxQueueTime) && inRange(requestTimeout) && inRange(retryAfter) && inRange(shutdownGracePeriod);
        }
    }

    /**
     * Limits per API key (all requests share one budget when no keys are configured).
     *
     * @param requestsPerSecond requests to {@code /v1/**}, {@code /tokenize} and {@code /detokenize} a second (0: off)
     * @param tokensPerMinute   prompt tokens plus {@code max_tokens} of every choice, a minute, as OpenAI counts
     *                          them: charged when the request gets its place in the engine (0: off)
     */
    public record RateLimit(
            @Min(value = 0, message = "must be 0 (off) or positive") @DefaultValue("0") int requestsPerSecond,
            @Min(value = 0, message = "must be 0 (off) or positive") @DefaultValue("0") int tokensPerMinute) {
    }

    /**
     * The circuit breaker around the compute backend; a call is one engine step's forward pass.
     *
     * @param failureRateThreshold       percentage of failed calls in the window that opens the breaker
     * @param slidingWindowSize          calls the failure rate is computed over
     * @param minimumNumberOfCalls       calls needed before the rate counts
     * @param waitDurationInOpenState    how long it stays open (503) before a half-open probe is let through
     * @param permittedCallsInHalfOpenState probe calls that decide between closing and opening again
     */
    public record CircuitBreaker(
            @DefaultValue("true") boolean enabled,
            @Min(value = 1, message = "must be in [1, 100]") @Max(value = 100, message = "must be in [1, 100]")
            @DefaultValue("50") int failureRateThreshold,
            @Min(value = 1, message = "must be at least 1") @DefaultValue("20") int slidingWindowSize,
            @Min(value = 1, message = "must be at least 1") @DefaultValue("5") int minimumNumberOfCalls,
            @NotNull @DefaultValue("30s") Duration waitDurationInOpenState,
            @Min(value = 1, message = "must be at least 1") @DefaultValue("1") int permittedCallsInHalfOpenState) {

        @AssertTrue(message = "wait-duration-in-open-state must be positive, and at most " + MAX_DURATION_DAYS + " days")
        public boolean isWaitPositive() {
            return !waitDurationInOpenState.isZero() && inRange(waitDurationInOpenState);
        }
    }

    /**
     * @param apiKeys        keys accepted as {@code Authorization: Bearer <key>}; with none here or in the file,
     *                       the API is open
     * @param apiKeysFile    a file of further keys, one a line ({@code #} starts a comment)
     * @param protectHealth  whether {@code /health} needs a key too (default: open, for probes)
     * @param protectMetrics whether {@code /metrics} needs a key too (default: open, for scrapers)
     * @param logPrompts     log each request's prompt and output at INFO; off, neither is ever logged
     * @param isolatePrefixCache whether requests share cached prompt pages only with requests of the same API
     *                       key (the key's identity joins the request's {@code cache_salt}); without keys
     *                       every request is the same client and shares as before
     */
    public record Security(
            List<String> apiKeys,
            String apiKeysFile,
            @DefaultValue("false") boolean protectHealth,
            @DefaultValue("false") boolean protectMetrics,
            @DefaultValue("false") boolean logPrompts,
            @Valid @NotNull @DefaultValue Limits limits,
            @DefaultValue("true") boolean isolatePrefixCache) {

        public Security {
            apiKeys = apiKeys == null ? List.of() : List.copyOf(apiKeys);
        }

        /** Never the keys themselves: this record may end up in a log or a failure message. */
        @Override
        public String toString() {
            return "Security[apiKeys=" + apiKeys.size() + " configured, apiKeysFile=" + apiKeysFile + ", protectHealth="
                    + protectHealth + ", protectMetrics=" + protectMetrics + ", logPrompts=" + logPrompts
                    + ", limits=" + limits + "]";
        }
    }

    /**
     * What one request may ask for; beyond these, 400 naming the field (413 for the body).
     *
     * @param maxBodySize       largest request body
     * @param maxPromptTokens   longest prompt, in tokens (0: only the context length limits it)
     * @param maxTokens         largest {@code max_tokens}; also caps the chat default (0: only the context limits it)
     * @param maxN              largest {@code n}
     * @param maxPrompts        most prompts in one {@code /v1/completions} request
     * @param maxStopStrings    most {@code stop} strings (OpenAI's limit, 4, is also the engine's)
     * @param maxLogitBias      most {@code logit_bias} entries
     */
    public record Limits(
            @NotNull @DefaultValue("10MB") DataSize maxBodySize,
            @Min(value = 0, message = "must be 0 (the context length) or positive") @DefaultValue("0") int maxPromptTokens,
            @Min(value = 0, message = "must be 0 (the context length) or positive") @DefaultValue("0") int maxTokens,
            @Min(value = 1, message = "must be at least 1") @DefaultValue("16") int maxN,
            @Min(value = 1, message = "must be at least 1") @DefaultValue("32") int maxPrompts,
            @Min(value = 0, message = "must be in [0, 4]") @Max(value = 4, message = "must be in [0, 4]")
            @DefaultValue("4") int maxStopStrings,
            @Min(value = 0, message = "must be 0 (none allowed) or positive") @DefaultValue("300") int maxLogitBias) {

        @AssertTrue(message = "max-body-size must be positive")
        public boolean isBodySizePositive() {
            return maxBodySize.toBytes() > 0;
        }
    }

    /**
     * The GPU's attention (the CPU backend has one way only).
     *
     * @param mode              a step with both prefill chunks and decodes: {@code serial} (the prefill
     *                          kernel, then the decode kernel), {@code streams} (the two on two CUDA
     *                          streams) or {@code pod} (one fused POD-Attention kernel)
     * @param smPolicy          pod: how an SM's tickets are split between prefill and decode CTAs
     * @param prefillSmFraction pod with {@code static}: the share of SMs that take prefill first; 0 takes
     *                          it from the phases' estimated times
     * @param ctasPerSm         pod: the fused kernel's co-residence shape, {@code 2} or {@code 4} CTAs per
     *                          SM, or {@code auto} (the planner's choice from the batch's shape)
     * @param cudaGraphs        replay decode-only steps from CUDA graphs captured per batch-size bucket
     * @param skinnyGemmRows    on Hopper, steps of at most this many token rows (decode batches) run
     *                          their projections of up to 64 MB on podserve's skinny GEMM kernel
     *                          instead of cuBLAS; 0 (the default): never
     * @param profile           time each layer's attention with CUDA events in steps launched kernel by
     *                          kernel, for podserve:step_attention_seconds and podserve:step_gpu_seconds
     */
    public record Attention(
            @NotNull @DefaultValue("pod") @Pattern(regexp = "serial|streams|pod", message = "must be 'serial', 'streams' or 'pod'") String mode,
            @NotNull @DefaultValue("auto") @Pattern(regexp = "auto|proportional|fifty-fifty|static",
                    message = "must be 'auto', 'proportional', 'fifty-fifty' or 'static'") String smPolicy,
            @jakarta.validation.constraints.DecimalMin(value = "0.0", message = "must be between 0 and 1")
            @jakarta.validation.constraints.DecimalMax(value = "1.0", message = "must be between 0 and 1")
            @DefaultValue("0") double prefillSmFraction,
            @NotNull @DefaultValue("auto") @Pattern(regexp = "auto|2|4", message = "must be 'auto', '2' or '4'") String ctasPerSm,
            @DefaultValue("true") boolean cudaGraphs,
            @DefaultValue("false") boolean profile,
            @Min(value = 0, message = "must be between 0 and 16") @jakarta.validation.constraints.Max(value = 16,
                    message = "must be between 0 and 16") @DefaultValue("0") int skinnyGemmRows) {

        /** 2 or 4, or 0 for auto (PodPlan.AUTO_CTAS). */
        public int ctasPerSmCode() {
            return "auto".equals(ctasPerSm) ? 0 : Integer.parseInt(ctasPerSm);
        }
    }

    /** @param threads compute threads of the CPU backend; 0: one per available core */
    public record Cpu(@Min(value = 0, message = "must be 0 (all cores) or positive") @DefaultValue("0") int threads) {
        public int effectiveThreads() {
            return threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
        }
    }

    @AssertTrue(message = "podserve.scheduler.max-num-batched-tokens must cover at least one KV block (podserve.kv-cache.block-size)")
    public boolean isBudgetCoversOneBlock() {
        return scheduler == null || kvCache == null || scheduler.maxNumBatchedTokens() >= kvCache.blockSize();
    }
}
