package dev.podserve.config;

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
        @NotNull @DefaultValue("auto") @Pattern(regexp = "auto|cuda|cpu", message = "must be 'auto', 'cuda' or 'cpu'") String backend) {

    /**
     * @param path       a HuggingFace model folder; unset means the embedded default model
     * @param loadFormat {@code auto} reads weights from the folder, {@code dummy} draws them from {@code seed}
     *                   (vLLM's {@code --load-format dummy}); the embedded default is always dummy
     * @param seed       seed of dummy weights
     * @param servedName the id in {@code /v1/models}; default: the folder name
     * @param chatTemplate a Jinja file that replaces the checkpoint's chat template
     */
    public record Model(
            String path,
            @NotNull @DefaultValue("auto") @Pattern(regexp = "auto|dummy", message = "must be 'auto' or 'dummy'") String loadFormat,
            @DefaultValue("20250302") long seed,
            String servedName,
            String chatTemplate) {
    }

    /**
     * @param maxNumBatchedTokens        token budget of one step (prefill chunks plus decodes)
     * @param maxNumSeqs                 requests running at once
     * @param longPrefillTokenThreshold  largest prefill chunk one request gets per step; 0: no limit beyond the budget
     * @param maxModelLen                context length served; 0: the model's {@code max_position_embeddings}
     */
    public record Scheduler(
            @Min(value = 1, message = "must be at least 1") @DefaultValue("512") int maxNumBatchedTokens,
            @Min(value = 1, message = "must be at least 1") @DefaultValue("64") int maxNumSeqs,
            @Min(value = 0, message = "must be 0 (off) or positive") @DefaultValue("256") int longPrefillTokenThreshold,
            @Min(value = 0, message = "must be 0 (the model's) or positive") @DefaultValue("0") int maxModelLen) {

        @AssertTrue(message = "max-num-batched-tokens must be at least max-num-seqs, or running decodes could be stalled")
        public boolean isBudgetCoversSeqs() {
            return maxNumBatchedTokens >= maxNumSeqs;
        }
    }

    /**
     * @param blockSize tokens per KV page
     * @param memory    memory given to KV pages; ignored when {@code numBlocks} is set
     * @param numBlocks an exact page count (0: derive from {@code memory})
     */
    public record KvCache(
            @Min(value = 1, message = "must be at least 1") @Max(value = 1024, message = "must be at most 1024") @DefaultValue("16") int blockSize,
            @NotNull @DefaultValue("256MB") DataSize memory,
            @Min(value = 0, message = "must be 0 (derive from memory) or positive") @DefaultValue("0") int numBlocks) {

        @AssertTrue(message = "memory must be positive when num-blocks is not set")
        public boolean isMemoryPositive() {
            return numBlocks > 0 || memory.toBytes() > 0;
        }
    }

    /**
     * @param keepAlive a {@code : ping} comment is sent on a stream after this long without an event,
     *                  so proxies keep the connection and dead sockets are noticed (0: never)
     */
    public record Api(@NotNull @DefaultValue("15s") java.time.Duration keepAlive) {
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
