package dev.podserve.scheduler;

import dev.podserve.attention.StepAttentionChooser;
import dev.podserve.kvcache.KvCacheManager;
import dev.podserve.kvcache.KvCacheManager.CachedPrefix;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Chunked-prefill scheduling in the Sarathi-Serve / vLLM v1 style. There are no prefill and decode
 * phases: every step each admitted sequence's computed count catches up with its tokens as far as
 * the token budget allows, so prompt chunks and single-token decodes share one hybrid batch.
 *
 * <p>One step is filled in this order:
 * <ol>
 *   <li>running sequences with exactly one uncomputed token (decodes), oldest admission first. The
 *       budget is at least {@code maxNumSeqs}, so they always fit: a decode is never held back by a
 *       prefill;</li>
 *   <li>running sequences with more uncomputed tokens (partial prefills, or recomputation after a
 *       preemption), oldest admission first, each at most {@code longPrefillTokenThreshold} tokens;</li>
 *   <li>waiting sequences in the order of the settings' {@link SchedulingPolicy} (by arrival, or by
 *       priority then arrival), while the budget, {@code maxNumSeqs} and
 *       the free KV pages allow; the last one admitted may get only a chunk. A sequence the free pages
 *       cannot take stops admission: letting smaller ones pass would starve long prompts under load.
 *       What "can take" means is the settings' {@link KvAdmission}: by default the whole prompt and
 *       the running sequences' growth until it is prefilled must fit, not just its first chunk.
 *       With prefix caching, a sequence admitted starts after the full pages of its tokens that the
 *       cache holds (never its last token, whose logits it needs), holding those pages with
 *       whoever else does. One whose next page a running sequence is still computing from the same
 *       tokens (the other choices of one request, a burst of requests with one system prompt) waits
 *       in its place for that page instead of computing it again, while those behind it may pass
 *       ({@link SchedulerSettings#waitForSharedPrefix()}).</li>
 * </ol>
 *
 * <p>When a running sequence cannot get pages for its tokens, the policy's victim is preempted by
 * recompute (its pages freed, its computed count reset, back in the waiting queue at its place), and
 * the allocation is retried; a sequence that is itself the victim preempts itself, and the sequences
 * after it in the step still get their turn. The victim is the most recently admitted running
 * sequence under FCFS, the last by priority then arrival under PRIORITY, so the first running
 * sequence in the policy's order is never preempted on another's behalf, which guarantees progress.
 * No sequence is admitted in a step that preempted, so a victim is not re-admitted into the
 * pressure that evicted it.
 *
 * <p>Once a step completes, each sequence's newly computed full pages are registered in the prefix
 * cache (a no-op without it), so a later request, or this one after a preemption, can start on them.
 *
 * <p>Step protocol for the engine: {@link #schedule()}, run the batch, {@link #onStepComplete},
 * then {@link Sequence#appendToken} for each sampled sequence, then {@link #finish} those that stop.
 * A sequence must be finished once it holds {@link #maxSequenceTokens()} tokens. If a step fails,
 * simply call {@link #schedule()} again: nothing advanced, so the same tokens are scheduled anew.
 */
public final class ChunkedPrefillScheduler {

    private final SchedulerSettings settings;
    private final KvCacheManager kv;
    private final int maxSequenceTokens;

    /** Admitted sequences in admission order (under FCFS the last one is the next preemption victim). */
    private final ArrayList<Sequence> running = new ArrayList<>();
    private final WaitingQueue waiting;
    private final Map<String, Sequence> live = new HashMap<>();
    private volatile long numPreemptions;
    /** Sequences added so far: the next one's place in the order of arrival. */
    private long numSubmitted;
    /** Prompt tokens of admitted sequences looked up in the prefix cache, and those found there. */
    private volatile long prefixQueriedTokens;
    private volatile long prefixHitTokens;
    /** The output of the last {@link #schedule()} until its step completes; guards against stale completions. */
    private SchedulerOutput pending;

    // The step being built. Fields rather than locals so that preemption can give back a victim's tokens.
    private int budget;
    private final ArrayList<Sequence> stepOrder = new ArrayList<>();
    private final ArrayList<Sequence> stepPreempted = new ArrayList<>();
    /** The running sequences as the step began, walked in order; victims drop out of {@link #running} meanwhile. */
    private final ArrayList<Sequence> stepRunning = new ArrayList<>();

    /** Picks each step's attention mode and SM policy from its shape; null leaves the choice to the backend. */
    private final StepAttentionChooser attention;

    public ChunkedPrefillScheduler(SchedulerSettings settings, KvCacheManager kv) {
        this(settings, kv, null);
    }

    /** @param attention chooses each step's attention (carried by its batch), or null to leave it to the backend */
    public ChunkedPrefillScheduler(SchedulerSettings settings, KvCacheManager kv, StepAttentionChooser attention) {
        this.attention = attention;
        this.settings = Objects.requireNonNull(settings, "settings");
        this.kv = Objects.requireNonNull(kv, "kv");
        SchedulerSettings.validateAgainstKvCache(settings, kv.blockSize(), kv.numBlocks());
        this.waiting = settings.policy().newWaitingQueue();
        this.maxSequenceTokens = Math.min(settings.maxModelLen(), kv.capacityTokens());
    }

    public SchedulerSettings settings() {
        return settings;
    }

    /**
     * Most tokens one sequence may hold: the model length, or less when the whole KV pool holds
     * less. The engine must finish a sequence (reason "length") once it has this many tokens.
     */
    public int maxSequenceTokens() {
        return maxSequenceTokens;
    }

    public int numRunning() {
        return running.size();
    }

    public int numWaiting() {
        return waiting.size();
    }

    public boolean hasUnfinishedSequences() {
        return !live.isEmpty();
    }

    /** Preemptions since this scheduler was made. */
    public long numPreemptions() {
        return numPreemptions;
    }

    /**
     * Prompt tokens of sequences looked up in the prefix cache at their first admission (0 without
     * prefix caching), vLLM's {@code prefix_cache_queries}.
     */
    public long prefixCacheQueriedTokens() {
        return prefixQueriedTokens;
    }

    /** Of those, the tokens found cached and not computed, vLLM's {@code prefix_cache_hits}. */
    public long prefixCacheHitTokens() {
        return prefixHitTokens;
    }

    /** Whether admitted sequences start on cached pages of their prefix. */
    public boolean prefixCaching() {
        return kv.prefixCaching();
    }

    /** Fraction of KV pages in use, 0.0 .. 1.0. */
    public double kvUsage() {
        return kv.usage();
    }

    /**
     * Queues a new sequence: behind every waiting one under FCFS, behind those of its priority or
     * more urgent under PRIORITY.
     *
     * @throws IllegalArgumentException if it is longer than {@code maxModelLen} or than the whole KV
     *                                  pool, if it is not fresh, if its request id is already queued,
     *                                  or if it has a priority under FCFS
     */
    public void add(Sequence s) {
        Objects.requireNonNull(s, "sequence");
        if (s.status() != SequenceStatus.WAITING || s.numComputedTokens() != 0) {
            throw new IllegalArgumentException("request " + s.requestId() + " is not a fresh sequence: " + s);
        }
        if (s.numTokens() > settings.maxModelLen()) {
            throw new IllegalArgumentException("request " + s.requestId() + " has " + s.numTokens()
                    + " tokens, more than maxModelLen " + settings.maxModelLen());
        }
        if (s.numTokens() > kv.capacityTokens()) {
            throw new IllegalArgumentException("request " + s.requestId() + " has " + s.numTokens()
                    + " tokens, more than the whole KV cache holds (" + kv.capacityTokens() + ")");
        }
        if (live.containsKey(s.requestId())) {
            throw new IllegalArgumentException("request " + s.requestId() + " is already queued");
        }
        if (s.priority() != 0 && settings.policy() == SchedulingPolicy.FCFS) {
            // Ignoring it would silently serve an urgent request in arrival order.
            throw new IllegalArgumentException("request " + s.requestId() + " has priority " + s.priority()
                    + " but the scheduling policy is FCFS");
        }
        s.markSubmitted(numSubmitted++);
        live.put(s.requestId(), s);
        waiting.add(s);
    }

    /** Plans the next step; see the class comment for the order. Empty when there is nothing to run. */
    public SchedulerOutput schedule() {
        requireRunningWithinCapacity();
        budget = settings.maxNumBatchedTokens();
        stepOrder.clear();
        stepPreempted.clear();
        for (Sequence s : running) {
            s.stepTokens = 0;
        }
        int maxChunk = settings.maxChunkTokens();

        // A copy, walked in order: a victim may stand anywhere in the running list (under PRIORITY,
        // even before the sequence that evicts it), and is skipped once it is waiting again.
        stepRunning.clear();
        stepRunning.addAll(running);
        for (Sequence s : stepRunning) {
            if (s.status() == SequenceStatus.RUNNING && s.numTokens() - s.numComputedTokens() == 1) {
                reserve(s, 1);
            }
        }
        for (int i = 0; i < stepRunning.size() && budget > 0; i++) {
            Sequence s = stepRunning.get(i);
            int remaining = s.numTokens() - s.numComputedTokens();
            if (s.status() == SequenceStatus.RUNNING && remaining > 1) {
                reserve(s, Math.min(remaining, maxChunk));
            }
        }
        stepRunning.clear();
        if (stepPreempted.isEmpty()) {
            admitWaiting(maxChunk);
        }

        pending = buildOutput();
        stepOrder.clear();
        stepPreempted.clear();
        return pending;
    }

    /**
     * Records that the step planned by {@code out} ran: each scheduled sequence's computed count
     * advances by its tokens. Sequences finished or aborted meanwhile are skipped.
     *
     * @throws IllegalStateException if {@code out} is not the latest {@link #schedule()} result or was
     *                               already completed
     */
    public void onStepComplete(SchedulerOutput out) {
        Objects.requireNonNull(out, "out");
        if (out.isEmpty()) {
            if (out == pending) {
                pending = null;
            }
            return;
        }
        if (out != pending) {
            throw new IllegalStateException("step output is stale or already completed");
        }
        pending = null;
        for (ScheduledSequence entry : out.scheduled()) {
            Sequence s = entry.sequence();
            if (s.status() == SequenceStatus.RUNNING) {
                s.advanceComputed(entry.numNewTokens());
                kv.cacheFullPages(s.requestId(), s.prefixHashes(), s::tokenAt, s.numComputedTokens());
            }
        }
    }

    /** Ends a sequence wherever it is: its pages are freed and it is never scheduled again. Idempotent. */
    public void finish(Sequence s) {
        Objects.requireNonNull(s, "sequence");
        if (live.get(s.requestId()) == s) {
            remove(s);
        } else if (!s.isSubmitted()) {
            // Never queued (e.g. the engine gave up before submitting it): nothing to free.
            s.markFinished();
        }
    }

    /** Ends the sequence with this request id, wherever it is. @return whether one was queued */
    public boolean abort(String requestId) {
        Sequence s = live.get(requestId);
        if (s == null) {
            return false;
        }
        remove(s);
        return true;
    }

    private void remove(Sequence s) {
        live.remove(s.requestId());
        SequenceStatus was = s.status();
        kv.free(s.requestId());
        s.markFinished();
        if (was == SequenceStatus.RUNNING) {
            running.remove(s);
        } else {
            waiting.removeFinished(s);
        }
    }

    private void requireRunningWithinCapacity() {
        for (Sequence s : running) {
            requireWithinCapacity(s);
        }
    }

    private void requireWithinCapacity(Sequence s) {
        if (s.numTokens() > maxSequenceTokens) {
            // Failing here, before anything changes, beats the alternative: a sequence that can never
            // fit preempts everyone, then waits at the head of the queue forever and blocks admission.
            throw new IllegalStateException("request " + s.requestId() + " holds " + s.numTokens()
                    + " tokens, more than maxSequenceTokens " + maxSequenceTokens + "; it should have been finished");
        }
    }

    /**
     * Gives {@code s} up to {@code wanted} tokens this step, as many as the budget allows, preempting
     * the policy's victims as needed for their pages.
     */
    private void reserve(Sequence s, int wanted) {
        while (true) {
            // Recomputed on every try: a preempted victim may have given tokens back to the budget.
            int n = Math.min(wanted, budget);
            if (kv.allocateSlots(s.requestId(), s.numComputedTokens() + n)) {
                s.stepTokens = n;
                budget -= n;
                stepOrder.add(s);
                return;
            }
            Sequence victim = settings.policy().victim(running);
            preempt(victim);
            if (victim == s) {
                return;
            }
        }
    }

    private void preempt(Sequence victim) {
        running.remove(victim);
        // The victim may already be in this step: a partial prefill can evict a newer decode, and under
        // PRIORITY any sequence can evict a less urgent one scheduled before it.
        budget += victim.stepTokens;
        kv.free(victim.requestId());
        victim.preempt();
        waiting.requeue(victim);
        stepPreempted.add(victim);
        numPreemptions++;
    }

    private void admitWaiting(int maxChunk) {
        Iterator<Sequence> queue = waiting.iterator();
        while (budget > 0 && running.size() < settings.maxNumSeqs() && queue.hasNext()) {
            Sequence s = queue.next();
            requireWithinCapacity(s);
            if (awaitsPageInFlight(s)) {
                // Keeps its place; those behind it may pass meanwhile, as it waits on nothing they hold.
                continue;
            }
            // The last token is always computed: its logits give the first output token.
            CachedPrefix hit = s.mayUseCachedPrefix() ? kv.findCachedPrefix(s.prefixHashes(), s::tokenAt, s.numTokens() - 1)
                    : CachedPrefix.NONE;
            int cached = hit.numBlocks() * kv.blockSize();
            int n = Math.min(s.numTokens() - cached, Math.min(maxChunk, budget));
            // Idle cached pages count as free, so adopting them takes from the free pages too.
            int takes = hit.numIdle() + kv.blocksNeeded(cached + n) - hit.numBlocks();
            if (kv.numFreeBlocks() < takes || !hasHeadroomFor(s, hit, cached + n, maxChunk)) {
                return;
            }
            queue.remove();
            s.awaited = null;
            kv.adoptCachedPrefix(s.requestId(), hit);
            if (!kv.allocateSlots(s.requestId(), cached + n)) {
                throw new IllegalStateException("pages counted free for " + s + " were not there");
            }
            // A sequence back after a preemption finding its own pages is not a hit: counted once, first.
            if (kv.prefixCaching() && s.mayUseCachedPrefix() && !s.everAdmitted()) {
                prefixQueriedTokens += s.numTokens();
                prefixHitTokens += cached;
            }
            s.admit(cached);
            running.add(s);
            s.stepTokens = n;
            budget -= n;
            stepOrder.add(s);
        }
    }

    /**
     * Whether the page after {@code s}'s cached prefix is one a running sequence has still to compute
     * from the same tokens: the {@code n} choices of one request, or requests that arrive together
     * with one long system prompt. Admitted now, {@code s} would compute that page (and likely the
     * rest of the shared prefix) a second time beside it; waiting, it finds the page registered
     * once the other has computed it, and starts after it. Never for a page holding {@code s}'s last
     * token, which it computes in any case.
     *
     * <p>Asked of every waiting sequence in every step, so it costs little when nothing changed: the
     * prefix is looked up from where the last lookup ended while no page has been evicted since
     * (only eviction unregisters a page), and the running sequences are searched again only when
     * the one it waited for has moved past the page or stopped running.
     */
    private boolean awaitsPageInFlight(Sequence s) {
        if (!settings.waitForSharedPrefix() || !kv.prefixCaching() || !s.mayUseCachedPrefix()) {
            return false;
        }
        long evictions = kv.numEvictions();
        int from = s.knownEvictions == evictions ? s.knownCachedPages : 0;
        int page = kv.numCachedPages(s.prefixHashes(), s::tokenAt, s.numTokens() - 1, from);
        s.knownCachedPages = page;
        s.knownEvictions = evictions;
        int end = (page + 1) * kv.blockSize();
        if (end > s.numTokens() - 1) {
            return false;
        }
        Sequence before = s.awaited;
        if (before != null && s.awaitedPage == page && before.status() == SequenceStatus.RUNNING
                && before.numComputedTokens() < end) {
            return true;
        }
        for (Sequence r : running) {
            if (r.numComputedTokens() < end && r.numTokens() >= end
                    && kv.samePage(s.prefixHashes(), s::tokenAt, r.prefixHashes(), r::tokenAt, page)) {
                s.awaited = r;
                s.awaitedPage = page;
                return true;
            }
        }
        s.awaited = null;
        return false;
    }

    /**
     * Whether the free pages let {@code s} (cached prefix {@code hit}, then a first chunk up to
     * {@code afterFirstChunk} tokens) reach the end of its
     * prefill without anyone being preempted, by {@link KvAdmission#HEADROOM}'s rule: its whole
     * prompt, the rest of every running prompt, and the running sequences' growth of one token a step
     * until then. That many steps is the longer of its own chunks ({@code maxChunk} at most a step) and
     * the whole prefill backlog at the budget the decodes leave. Growth is counted for sequences still
     * prefilling too, which only errs towards waiting. Always true under GREEDY or with nothing running.
     */
    private boolean hasHeadroomFor(Sequence s, CachedPrefix hit, int afterFirstChunk, int maxChunk) {
        if (settings.kvAdmission() == KvAdmission.GREEDY || running.isEmpty()) {
            return true;
        }
        // Cached pages someone holds cost nothing; idle ones come out of the free pages.
        long pages = kv.blocksNeeded(s.numTokens()) - hit.numBlocks() + hit.numIdle();
        long backlog = s.numTokens() - afterFirstChunk;
        for (Sequence r : running) {
            pages += kv.numMissingBlocks(r.requestId(), r.numTokens());
            backlog += r.numTokens() - r.numComputedTokens() - r.stepTokens;
        }
        long perStep = Math.max(1, settings.maxNumBatchedTokens() - running.size() - 1);
        long steps = 1 + Math.max(ceilDiv(s.numTokens() - afterFirstChunk, maxChunk), ceilDiv(backlog, perStep));
        for (Sequence r : running) {
            int now = r.numTokens();
            pages += kv.blocksNeeded((int) Math.min(now + steps, maxSequenceTokens)) - kv.blocksNeeded(now);
        }
        return kv.numFreeBlocks() >= pages;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    private SchedulerOutput buildOutput() {
        List<ScheduledSequence> prefills = new ArrayList<>();
        List<ScheduledSequence> decodes = new ArrayList<>();
        for (Sequence s : stepOrder) {
            // Preempted victims stay in stepOrder but lost their tokens.
            if (s.status() != SequenceStatus.RUNNING || s.stepTokens == 0) {
                continue;
            }
            boolean sample = s.numComputedTokens() + s.stepTokens == s.numTokens();
            (s.stepTokens > 1 ? prefills : decodes).add(new ScheduledSequence(s, s.stepTokens, sample));
            s.stepTokens = 0;
        }
        if (prefills.isEmpty() && decodes.isEmpty()) {
            return SchedulerOutput.empty(stepPreempted);
        }
        int numPrefills = prefills.size();
        prefills.addAll(decodes);
        return new SchedulerOutput(prefills, HybridBatchAssembler.assemble(prefills, numPrefills, kv, attention), stepPreempted);
    }
}
