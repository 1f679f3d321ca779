package dev.podserve.scheduler;

import dev.podserve.kvcache.PrefixHashes;

import java.util.Arrays;
import java.util.Objects;

/**
 * The scheduler's state of one sequence: its tokens so far (prompt, then sampled output) and how
 * many of them have their K/V in the cache ({@link #numComputedTokens()}).
 *
 * <p>The engine appends sampled tokens; only the scheduler moves the computed count and the status.
 * A request asking for several choices is several sequences.
 */
public final class Sequence {

    private final String requestId;
    private final int numPromptTokens;
    private final long arrivalNanos;
    private int[] tokens;
    private int numTokens;
    private int numComputedTokens;
    private SequenceStatus status = SequenceStatus.WAITING;
    private int numPreemptions;
    private boolean submitted;
    /** False for a sequence that needs every prompt row computed (its prompt is scored). */
    private boolean mayUseCachedPrefix = true;
    /** Prompt tokens found in the prefix cache when it was first admitted. */
    private int numCachedTokens;
    private boolean everAdmitted;
    /** Null: shares cached pages with every unsalted request. */
    private String cacheSalt;
    /** Lower is more urgent, as in vLLM; orders nothing under FCFS, which requires 0. */
    private int priority;
    /** Its pages' hashes, made on first use. */
    private PrefixHashes prefixHashes;
    /** Tokens given to this sequence by the step being built; 0 when not (or no longer) in it. */
    int stepTokens;
    /** Its place in its scheduler's order of arrival, set when submitted. */
    long submissionOrder = -1;
    /**
     * Cached pages found for it by the scheduler's last look while it waited, and the KV pool's
     * eviction count then: while no page is evicted, those are still there.
     */
    int knownCachedPages;
    long knownEvictions = -1;
    /** While waiting for a shared page: the running sequence computing it, and the page. Null otherwise. */
    Sequence awaited;
    int awaitedPage;

    public Sequence(String requestId, int[] promptTokenIds) {
        this(requestId, promptTokenIds, System.nanoTime());
    }

    public Sequence(String requestId, int[] promptTokenIds, long arrivalNanos) {
        this.requestId = Objects.requireNonNull(requestId, "requestId");
        Objects.requireNonNull(promptTokenIds, "promptTokenIds");
        // Sampling needs the logits of a last prompt token, so an empty prompt has nothing to start from.
        if (promptTokenIds.length == 0) {
            throw new IllegalArgumentException("request " + requestId + " has an empty prompt");
        }
        this.numPromptTokens = promptTokenIds.length;
        this.tokens = Arrays.copyOf(promptTokenIds, promptTokenIds.length + 16);
        this.numTokens = promptTokenIds.length;
        this.arrivalNanos = arrivalNanos;
    }

    public String requestId() {
        return requestId;
    }

    public int numPromptTokens() {
        return numPromptTokens;
    }

    /** Prompt plus generated tokens. */
    public int numTokens() {
        return numTokens;
    }

    public int numOutputTokens() {
        return numTokens - numPromptTokens;
    }

    public int tokenAt(int i) {
        Objects.checkIndex(i, numTokens);
        return tokens[i];
    }

    public int lastToken() {
        return tokens[numTokens - 1];
    }

    public int[] promptTokenIds() {
        return Arrays.copyOf(tokens, numPromptTokens);
    }

    public int[] outputTokenIds() {
        return Arrays.copyOfRange(tokens, numPromptTokens, numTokens);
    }

    /** Adds a sampled token; called by the engine after a step whose output asked to sample this sequence. */
    public void appendToken(int token) {
        if (status == SequenceStatus.FINISHED) {
            throw new IllegalStateException("request " + requestId + " is finished, cannot append a token");
        }
        if (numTokens == tokens.length) {
            tokens = Arrays.copyOf(tokens, tokens.length * 2);
        }
        tokens[numTokens++] = token;
    }

    /** Leading tokens whose K/V are in the cache. */
    public int numComputedTokens() {
        return numComputedTokens;
    }

    public SequenceStatus status() {
        return status;
    }

    public boolean isFinished() {
        return status == SequenceStatus.FINISHED;
    }

    /** Times this sequence lost its KV pages and had to recompute them. */
    public int numPreemptions() {
        return numPreemptions;
    }

    /** {@link System#nanoTime()} when it was created, unless given. */
    public long arrivalNanos() {
        return arrivalNanos;
    }

    void copyTokens(int from, int[] dest, int destPos, int count) {
        Objects.checkFromIndexSize(from, count, numTokens);
        System.arraycopy(tokens, from, dest, destPos, count);
    }

    void advanceComputed(int n) {
        if (n < 1 || numComputedTokens + n > numTokens) {
            throw new IllegalStateException("request " + requestId + " cannot advance " + n + " tokens: "
                    + numComputedTokens + " of " + numTokens + " computed");
        }
        numComputedTokens += n;
    }

    /**
     * Keeps this sequence from starting on cached pages: every prompt row is computed, as scoring the
     * prompt needs. Call before submitting it.
     */
    public void computeWholePrompt() {
        mayUseCachedPrefix = false;
    }

    public boolean mayUseCachedPrefix() {
        return mayUseCachedPrefix;
    }

    /**
     * Limits prefix sharing to sequences with the same salt (vLLM's {@code cache_salt}): without it
     * any client can learn, from its own cached-token counts, whether another sent the same prompt
     * start. Call before submitting it.
     */
    public void cacheSalt(String salt) {
        if (prefixHashes != null) {
            throw new IllegalStateException("request " + requestId + " already hashed its pages");
        }
        cacheSalt = salt;
    }

    /** Null when it shares cached pages with every unsalted request. */
    String cacheSalt() {
        return cacheSalt;
    }

    /**
     * Its priority under {@link SchedulingPolicy#PRIORITY}: lower values are admitted first and
     * preempted last (vLLM's request {@code priority}). Call before submitting it: the waiting
     * queue is sorted by it.
     */
    public void priority(int priority) {
        if (submitted) {
            throw new IllegalStateException("request " + requestId + " is already queued; its priority is fixed");
        }
        this.priority = priority;
    }

    /** 0 unless set. */
    public int priority() {
        return priority;
    }

    PrefixHashes prefixHashes() {
        if (prefixHashes == null) {
            prefixHashes = new PrefixHashes(cacheSalt);
        }
        return prefixHashes;
    }

    /** Whether it was admitted before (and so is back after a preemption). */
    boolean everAdmitted() {
        return everAdmitted;
    }

    /**
     * Leading prompt tokens whose K/V came from the prefix cache when the sequence was first
     * admitted (OpenAI's {@code usage.prompt_tokens_details.cached_tokens}); 0 before that.
     */
    public int numCachedTokens() {
        return numCachedTokens;
    }

    boolean isSubmitted() {
        return submitted;
    }

    void markSubmitted(long order) {
        if (submitted) {
            throw new IllegalArgumentException("request " + requestId + " was already submitted to a scheduler");
        }
        submitted = true;
        submissionOrder = order;
    }

    /** Admits it with its first {@code cachedTokens} tokens already in the pages it was given. */
    void admit(int cachedTokens) {
        if (cachedTokens < 0 || cachedTokens >= numTokens || numComputedTokens != 0) {
            throw new IllegalStateException("request " + requestId + " cannot start after " + cachedTokens
                    + " cached tokens: " + this);
        }
        status = SequenceStatus.RUNNING;
        numComputedTokens = cachedTokens;
        if (!everAdmitted) {
            everAdmitted = true;
            numCachedTokens = cachedTokens;
        }
    }

    void preempt() {
        status = SequenceStatus.WAITING;
        numComputedTokens = 0;
        stepTokens = 0;
        numPreemptions++;
    }

    void markFinished() {
        status = SequenceStatus.FINISHED;
        stepTokens = 0;
    }

    @Override
    public String toString() {
        return "Sequence[" + requestId + ", " + status + (priority != 0 ? ", priority=" + priority : "") + ", tokens=" + numTokens
                + " (prompt " + numPromptTokens + "), computed=" + numComputedTokens + ", preemptions=" + numPreemptions + "]";
    }
}
