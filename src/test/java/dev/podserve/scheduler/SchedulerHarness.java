package dev.podserve.scheduler;

import dev.podserve.attention.HybridBatch;
import dev.podserve.kvcache.KvCacheManager;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntSupplier;
import java.util.function.Supplier;

/**
 * Drives a scheduler the way the engine does and checks, after every {@link #schedule()}, every
 * invariant of the step against an independent model of the queues: budget, sequence limit, batch
 * order, CSR arrays against the KV manager, sample flags, decodes never stalled, oldest-first
 * prefills, admission strictly in the policy's order, preemption of the policy's victim, and exact
 * KV page accounting.
 *
 * <p>The model keeps the waiting queue as a plain list sorted by insertion at a linear scan, and
 * picks victims by scanning the running list, from the priorities and submission order it recorded
 * itself: a slow reference for the scheduler's queues, sharing none of their code.
 */
final class SchedulerHarness {

    final SchedulerSettings settings;
    final KvCacheManager kv;
    final ChunkedPrefillScheduler scheduler;

    /** Every sequence submitted and not yet finished, with the tokens it must hold. */
    private final Map<Sequence, List<Integer>> expected = new IdentityHashMap<>();
    private final LinkedHashSet<Sequence> live = new LinkedHashSet<>();
    /** Model of the scheduler's queues. */
    private final SchedulerQueueModel queues;
    private final Map<Sequence, Integer> waitingSince = new IdentityHashMap<>();
    private final Map<Sequence, Integer> stepTokens = new IdentityHashMap<>();

    int step;
    int maxWaitSteps;
    /** The longest stay in the waiting queue of a sequence of each priority. */
    final Map<Integer, Integer> maxWaitStepsByPriority = new java.util.TreeMap<>();
    int numPreemptionsSeen;
    /** Victims evicted before their prompt was computed: prefill work thrown away before it sampled anything. */
    int numPrefillsEvicted;
    long scheduledTokens;
    /** Times a waiting sequence was passed over because a running one was computing its next page. */
    int numWaitsForPagesInFlight;
    /** Victims that were not the newest admission: only the priority policy picks those. */
    int numVictimsNotNewest;
    /** Admissions ahead of a less urgent sequence that arrived earlier and still waits: priority at work. */
    int numAdmissionsAheadOfEarlierArrivals;
    /** Per waiting sequence, the cached pages its prompt starts with, found just before the step was scheduled. */
    private final Map<Sequence, int[]> cachedPagesBefore = new IdentityHashMap<>();
    /** Per running sequence, the pages it held just before the step was scheduled. */
    private final Map<Sequence, Integer> pagesHeldBefore = new IdentityHashMap<>();

    /** For each full page computed, the tokens it and every page before it were computed from. */
    private final Map<Integer, List<Integer>> pageComputedFrom = new java.util.HashMap<>();

    SchedulerHarness(SchedulerSettings settings, int numBlocks, int blockSize) {
        this(settings, numBlocks, blockSize, false);
    }

    SchedulerHarness(SchedulerSettings settings, int numBlocks, int blockSize, boolean prefixCaching) {
        this.settings = settings;
        this.kv = new KvCacheManager(numBlocks, blockSize, prefixCaching);
        this.scheduler = new ChunkedPrefillScheduler(settings, kv);
        this.queues = new SchedulerQueueModel(settings.policy());
    }

    static int[] prompt(int length, int firstToken) {
        int[] tokens = new int[length];
        for (int i = 0; i < length; i++) {
            tokens[i] = firstToken + i;
        }
        return tokens;
    }

    Sequence submit(String id, int[] prompt) {
        return submitting(id, prompt, false);
    }

    /** @param wholePrompt whether the sequence must compute every prompt row (as one scoring its prompt) */
    Sequence submitting(String id, int[] prompt, boolean wholePrompt) {
        return submitting(id, prompt, wholePrompt, null);
    }

    /** @param salt its cache salt, or null */
    Sequence submitting(String id, int[] prompt, boolean wholePrompt, String salt) {
        return submitting(id, prompt, wholePrompt, salt, 0);
    }

    Sequence submitWithPriority(String id, int[] prompt, int priority) {
        return submitting(id, prompt, false, null, priority);
    }

    Sequence submitting(String id, int[] prompt, boolean wholePrompt, String salt, int priority) {
        Sequence s = new Sequence(id, prompt);
        if (wholePrompt) {
            s.computeWholePrompt();
        }
        s.cacheSalt(salt);
        s.priority(priority);
        scheduler.add(s);
        List<Integer> tokens = new ArrayList<>();
        for (int t : prompt) {
            tokens.add(t);
        }
        expected.put(s, tokens);
        live.add(s);
        queues.submit(s, priority);
        waitingSince.put(s, step);
        return s;
    }

    int numLive() {
        return live.size();
    }

    List<Sequence> liveSequences() {
        return new ArrayList<>(live);
    }

    List<Integer> expectedTokens(Sequence s) {
        return expected.get(s);
    }

    /** Schedules one step and checks it. */
    SchedulerOutput schedule() {
        Map<Sequence, int[]> before = new IdentityHashMap<>();
        for (Sequence s : live) {
            before.put(s, new int[] {s.status().ordinal(), s.numComputedTokens(), s.numTokens()});
        }
        // Pages taken in a step can be idle cached ones, evicted: a sequence's hit at its turn is what
        // it found before the step less what was taken before its turn (see cachedPagesAtTurn).
        cachedPagesBefore.clear();
        pagesHeldBefore.clear();
        for (Sequence w : queues.waiting) {
            if (kv.prefixCaching() && w.mayUseCachedPrefix()) {
                cachedPagesBefore.put(w, kv.findCachedPrefix(w.prefixHashes(), w::tokenAt, w.numTokens() - 1).blocks());
            }
        }
        for (Sequence r : queues.running) {
            pagesHeldBefore.put(r, kv.numBlocksOf(r.requestId()));
        }
        SchedulerOutput out = scheduler.schedule();
        step++;
        stepTokens.clear();
        for (ScheduledSequence e : out.scheduled()) {
            stepTokens.put(e.sequence(), e.numNewTokens());
        }
        checkBatch(out, before);
        List<Sequence> admitted = checkPreemptionsAndAdmissions(out, before);
        checkRunningProgress(out, before);
        checkKvAccounting();
        check(scheduler.numRunning() <= settings.maxNumSeqs(), () -> "running exceeds maxNumSeqs");
        for (Sequence s : admitted) {
            int waited = step - waitingSince.remove(s);
            maxWaitSteps = Math.max(maxWaitSteps, waited);
            maxWaitStepsByPriority.merge(queues.priorityOf(s), waited, Math::max);
        }
        scheduledTokens += out.numScheduledTokens();
        return out;
    }

    /** Completes the step and appends a token to every sequence the step samples. @return those sequences */
    List<Sequence> complete(SchedulerOutput out, IntSupplier nextToken) {
        Map<Sequence, Integer> computedBefore = new IdentityHashMap<>();
        for (ScheduledSequence e : out.scheduled()) {
            computedBefore.put(e.sequence(), e.sequence().numComputedTokens());
        }
        scheduler.onStepComplete(out);
        int bs = kv.blockSize();
        for (ScheduledSequence e : out.scheduled()) {
            Sequence s = e.sequence();
            if (s.isFinished()) {
                continue;
            }
            int[] pages = kv.blocks(s.requestId());
            for (int p = computedBefore.get(s) / bs; p < s.numComputedTokens() / bs; p++) {
                pageComputedFrom.put(pages[p], List.copyOf(expected.get(s).subList(0, (p + 1) * bs)));
            }
        }
        List<Sequence> sampled = new ArrayList<>();
        for (ScheduledSequence e : out.scheduled()) {
            Sequence s = e.sequence();
            if (s.isFinished()) {
                check(s.numComputedTokens() == computedBefore.get(s), () -> "finished sequence advanced: " + s);
                continue;
            }
            check(s.numComputedTokens() == computedBefore.get(s) + e.numNewTokens(), () -> "did not advance: " + s);
            if (e.sample()) {
                int token = nextToken.getAsInt();
                s.appendToken(token);
                expected.get(s).add(token);
                sampled.add(s);
            }
        }
        return sampled;
    }

    /** One whole step with sequential output tokens. */
    SchedulerOutput runStep() {
        SchedulerOutput out = schedule();
        complete(out, () -> 1_000_000 + step);
        return out;
    }

    void finish(Sequence s) {
        scheduler.finish(s);
        forget(s);
    }

    boolean abort(String requestId) {
        Sequence target = null;
        for (Sequence s : live) {
            if (s.requestId().equals(requestId)) {
                target = s;
            }
        }
        boolean known = scheduler.abort(requestId);
        check(known == (target != null), () -> "abort of " + requestId + " answered " + known);
        if (target != null) {
            forget(target);
        }
        return known;
    }

    private void forget(Sequence s) {
        check(s.status() == SequenceStatus.FINISHED, () -> "not finished: " + s);
        check(kv.numBlocksOf(s.requestId()) == 0, () -> "finished sequence kept blocks: " + s);
        live.remove(s);
        expected.remove(s);
        queues.forget(s);
        waitingSince.remove(s);
        check(scheduler.numRunning() == queues.running.size(), () -> "running count after finish");
        check(scheduler.numWaiting() == queues.waiting.size(), () -> "waiting count after finish");
    }

    void assertDrained() {
        check(live.isEmpty(), () -> live.size() + " sequences never finished: " + live);
        check(!scheduler.hasUnfinishedSequences(), () -> "scheduler still holds sequences");
        check(scheduler.numRunning() == 0 && scheduler.numWaiting() == 0, () -> "queues not empty");
        check(kv.numFreeBlocks() == kv.numBlocks(), () -> "leaked " + (kv.numBlocks() - kv.numFreeBlocks()) + " blocks");
        check(kv.numRequestsWithBlocks() == 0, () -> kv.numRequestsWithBlocks() + " requests still own blocks");
    }

    private void checkBatch(SchedulerOutput out, Map<Sequence, int[]> before) {
        List<ScheduledSequence> scheduled = out.scheduled();
        if (out.isEmpty()) {
            check(out.batch() == null, () -> "empty output with a batch");
            return;
        }
        HybridBatch batch = out.batch();
        int r = scheduled.size();
        check(batch.numRequests() == r, () -> "batch requests " + batch.numRequests() + " != " + r);
        check(r <= settings.maxNumSeqs(), () -> r + " sequences exceed maxNumSeqs");
        check(batch.numTokens() <= settings.maxNumBatchedTokens(),
                () -> batch.numTokens() + " tokens exceed the budget " + settings.maxNumBatchedTokens());
        check(batch.pageSize() == kv.blockSize(), () -> "page size");
        int numPrefills = 0;
        while (numPrefills < r && scheduled.get(numPrefills).numNewTokens() > 1) {
            numPrefills++;
        }
        for (int i = numPrefills; i < r; i++) {
            int n = scheduled.get(i).numNewTokens();
            check(n == 1, () -> "a multi-token chunk after the decode group: " + scheduled);
        }
        check(batch.numPrefillRequests() == numPrefills, () -> "numPrefillRequests " + batch.numPrefillRequests());
        Set<Sequence> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        Set<Integer> written = new HashSet<>();
        Set<Integer> read = new HashSet<>();
        List<Integer> samples = new ArrayList<>();
        int bs = kv.blockSize();
        for (int i = 0; i < r; i++) {
            final int ri = i;
            ScheduledSequence e = scheduled.get(i);
            Sequence s = e.sequence();
            int n = e.numNewTokens();
            int[] snap = before.get(s);
            check(snap != null, () -> "scheduled an unknown sequence " + s);
            check(seen.add(s), () -> "scheduled twice: " + s);
            check(s.status() == SequenceStatus.RUNNING, () -> "scheduled but not running: " + s);
            int start = s.numComputedTokens();
            if (snap[0] == SequenceStatus.WAITING.ordinal()) {
                checkCachedStart(s, start);
            } else {
                check(start == snap[1], () -> "chunk of " + s + " starts at " + start + ", expected " + snap[1]);
            }
            check(start + n <= s.numTokens(), () -> "scheduled past the known tokens: " + s + " +" + n);
            check(e.sample() == (start + n == s.numTokens()), () -> "sample flag of " + s + " +" + n);
            if (settings.longPrefillTokenThreshold() > 0) {
                check(n <= settings.longPrefillTokenThreshold(), () -> "chunk " + n + " above the threshold");
            }
            check(batch.qoIndptr()[i + 1] - batch.qoIndptr()[i] == n, () -> "qoIndptr of request " + ri);
            List<Integer> tokens = expected.get(s);
            for (int t = 0; t < n; t++) {
                int row = batch.qoIndptr()[i] + t;
                int pos = start + t;
                check(batch.positions()[row] == pos, () -> "position of row " + row + " is " + batch.positions()[row]
                        + ", expected " + pos);
                check(batch.tokenIds()[row] == tokens.get(pos), () -> "token at position " + pos + " of " + s);
            }
            int kvLen = start + n;
            int numPages = kv.blocksNeeded(kvLen);
            check(batch.kvIndptr()[i + 1] - batch.kvIndptr()[i] == numPages, () -> "page count of request " + ri);
            int[] owned = kv.blocks(s.requestId());
            check(owned.length == numPages, () -> s + " owns " + owned.length + " pages, needs " + numPages);
            for (int p = 0; p < numPages; p++) {
                int page = batch.kvPageIndices()[batch.kvIndptr()[i] + p];
                check(page == owned[p], () -> "page list of request " + ri + " differs from the KV manager");
                if ((p + 1) * bs > start) {
                    // Written this step: this request alone may hold it, and no other may read it.
                    check(kv.holdersOf(page) == 1, () -> "page " + page + ", written by request " + ri + ", has "
                            + kv.holdersOf(page) + " holders");
                    check(written.add(page) && !read.contains(page), () -> "page " + page + " written by request "
                            + ri + " appears elsewhere in the batch");
                    // Rewritten: what it held before no longer counts, until it is full again.
                    pageComputedFrom.remove(page);
                } else {
                    check(!written.contains(page), () -> "page " + page + " read by request " + ri + " is written in this step");
                    read.add(page);
                }
            }
            check(batch.kvLastPageLen()[i] == kvLen - (numPages - 1) * bs, () -> "lastPageLen of request " + ri);
            check(batch.kvLength(i) == kvLen, () -> "kvLength of request " + ri);
            if (e.sample()) {
                samples.add(i);
            }
        }
        int[] expectedSamples = samples.stream().mapToInt(Integer::intValue).toArray();
        check(Arrays.equals(batch.sampleRequests(), expectedSamples), () -> "sampleRequests "
                + Arrays.toString(batch.sampleRequests()) + ", expected " + Arrays.toString(expectedSamples));
    }

    /**
     * A sequence admitted this step starts at 0, or, with prefix caching, after whole pages it now
     * holds that were computed from exactly its own leading tokens.
     */
    private void checkCachedStart(Sequence s, int start) {
        if (!kv.prefixCaching() || !s.mayUseCachedPrefix()) {
            check(start == 0, () -> s + " starts at " + start + " without using the prefix cache");
            return;
        }
        int bs = kv.blockSize();
        check(start % bs == 0 && start < s.numTokens(), () -> s + " starts at " + start + " after its cached pages");
        int[] pages = kv.blocks(s.requestId());
        List<Integer> tokens = expected.get(s);
        for (int p = 0; p < start / bs; p++) {
            List<Integer> from = pageComputedFrom.get(pages[p]);
            List<Integer> needed = tokens.subList(0, (p + 1) * bs);
            final int page = p;
            check(needed.equals(from), () -> s + " reuses page " + pages[page] + " (its page " + page
                    + "), computed from other tokens");
        }
    }

    /** @return the sequences admitted this step, in queue order */
    private List<Sequence> checkPreemptionsAndAdmissions(SchedulerOutput out, Map<Sequence, int[]> before) {
        List<Sequence> preempted = out.preempted();
        numPreemptionsSeen += preempted.size();
        check(preempted.size() <= queues.running.size(), () -> "more preempted than running");
        List<Sequence> runningLeft = new ArrayList<>(queues.running);
        for (int i = 0; i < preempted.size(); i++) {
            Sequence victim = preempted.get(i);
            Sequence expectedVictim = queues.victim(runningLeft);
            check(victim == expectedVictim, () -> "preempted " + victim + " but the policy's victim was " + expectedVictim);
            if (victim != runningLeft.get(runningLeft.size() - 1)) {
                numVictimsNotNewest++;
            }
            runningLeft.remove(victim);
            check(victim.status() == SequenceStatus.WAITING && victim.numComputedTokens() == 0,
                    () -> "victim not reset: " + victim);
            check(kv.numBlocksOf(victim.requestId()) == 0, () -> "victim kept its blocks: " + victim);
            check(!stepTokens.containsKey(victim), () -> "victim still scheduled: " + victim);
            if (before.get(victim)[1] < victim.numPromptTokens()) {
                numPrefillsEvicted++;
            }
        }
        for (Sequence victim : preempted) {
            queues.running.remove(victim);
            queues.insertWaiting(victim);
            waitingSince.put(victim, step);
        }
        check(scheduler.numPreemptions() == numPreemptionsSeen, () -> "scheduler counts "
                + scheduler.numPreemptions() + " preemptions, outputs reported " + numPreemptionsSeen);

        Set<Sequence> admittedSet = Collections.newSetFromMap(new IdentityHashMap<>());
        for (ScheduledSequence e : out.scheduled()) {
            if (before.get(e.sequence())[0] == SequenceStatus.WAITING.ordinal()) {
                admittedSet.add(e.sequence());
            }
        }
        int k = admittedSet.size();
        check(preempted.isEmpty() || k == 0, () -> "admitted a waiting sequence in a step that preempted");
        // Admission walks the queue from its head, oldest first. One whose next page a running sequence
        // (or one admitted before it this step) computes from the same tokens waits in its place; the
        // first other one not admitted stops it, and nothing behind that may be admitted.
        List<Sequence> admitted = new ArrayList<>();
        List<Sequence> runningThen = new ArrayList<>(queues.running);
        Set<Integer> taken = new HashSet<>();
        for (Sequence r : queues.running) {
            int[] pages = kv.blocks(r.requestId());
            for (int p = pagesHeldBefore.getOrDefault(r, pages.length); p < pages.length; p++) taken.add(pages[p]);
        }
        Sequence stopped = null;
        for (Sequence w : queues.waiting) {
            if (admittedSet.contains(w)) {
                final Sequence stop = stopped;
                check(stop == null, () -> "admitted " + w + " behind " + stop + ", which was not admitted");
                check(!waitsForPageInFlight(w, runningThen, cachedPagesAtTurn(w, taken)),
                        () -> "admitted " + w + " although a running sequence is computing its next page");
                admitted.add(w);
                runningThen.add(w);
                int[] pages = kv.blocks(w.requestId());
                for (int p = w.numComputedTokens() / kv.blockSize(); p < pages.length; p++) taken.add(pages[p]);
            } else if (stopped == null) {
                if (waitsForPageInFlight(w, runningThen, cachedPagesAtTurn(w, taken))) {
                    numWaitsForPagesInFlight++;
                } else {
                    stopped = w;
                }
            }
        }
        check(admitted.size() == k, () -> "admitted sequences that were not waiting: " + admittedSet);
        for (Sequence a : admitted) {
            for (Sequence w : queues.waiting) {
                if (!admittedSet.contains(w) && queues.earlierAndLessUrgent(w, a)) {
                    numAdmissionsAheadOfEarlierArrivals++;
                    break;
                }
            }
        }
        queues.waiting.removeAll(admitted);
        queues.running.addAll(admitted);
        int budgetLeft = settings.maxNumBatchedTokens() - out.numScheduledTokens();
        if (preempted.isEmpty() && stopped != null && budgetLeft > 0
                && queues.running.size() < settings.maxNumSeqs()) {
            Sequence head = stopped;
            KvCacheManager.CachedPrefix hit = head.mayUseCachedPrefix()
                    ? kv.findCachedPrefix(head.prefixHashes(), head::tokenAt, head.numTokens() - 1) : KvCacheManager.CachedPrefix.NONE;
            int cached = hit.numBlocks() * kv.blockSize();
            int firstChunk = Math.min(head.numTokens() - cached, Math.min(settings.maxChunkTokens(), budgetLeft));
            int takes = hit.numIdle() + kv.blocksNeeded(cached + firstChunk) - hit.numBlocks();
            check(kv.numFreeBlocks() < takes || !headroomAllows(head, hit, cached + firstChunk), () -> "admission stopped although "
                    + head + " fits (budget left " + budgetLeft + ", " + kv.numFreeBlocks() + " pages free)");
        }
        return admitted;
    }

    /** A null salt and an empty one start the same hash chain. */
    private static String saltOf(Sequence s) {
        return s.cacheSalt() == null ? "" : s.cacheSalt();
    }

    /** How many of the cached pages {@code w} found before the step are still there once {@code taken} are gone. */
    private int cachedPagesAtTurn(Sequence w, Set<Integer> taken) {
        int[] before = cachedPagesBefore.get(w);
        int n = 0;
        while (before != null && n < before.length && !taken.contains(before[n])) {
            n++;
        }
        return n;
    }

    /**
     * Whether {@code w}'s next page after its {@code cachedPages} (never its last token's) is one
     * that a sequence of {@code running} has still to compute from the same tokens under the same
     * salt, decided on the tokens themselves rather than their hashes.
     */
    private boolean waitsForPageInFlight(Sequence w, List<Sequence> running, int cachedPages) {
        if (!settings.waitForSharedPrefix() || !kv.prefixCaching() || !w.mayUseCachedPrefix()) {
            return false;
        }
        int end = (cachedPages + 1) * kv.blockSize();
        if (end > w.numTokens() - 1) {
            return false;
        }
        List<Integer> mine = expected.get(w).subList(0, end);
        for (Sequence r : running) {
            if (r.numComputedTokens() < end && r.numTokens() >= end && saltOf(r).equals(saltOf(w))
                    && expected.get(r).subList(0, end).equals(mine)) {
                return true;
            }
        }
        return false;
    }

    /**
     * {@link KvAdmission}'s rule recomputed from the step just scheduled: with HEADROOM and something
     * running, the free pages must hold the head's whole prompt, every running sequence's unallocated
     * known tokens, and one token a step of growth for each running sequence over the steps until
     * the head's prompt is prefilled.
     */
    boolean headroomAllows(Sequence head, KvCacheManager.CachedPrefix hit, int afterFirstChunk) {
        if (settings.kvAdmission() == KvAdmission.GREEDY || queues.running.isEmpty()) {
            return true;
        }
        int bs = kv.blockSize();
        long pagesNeeded = pagesFor(head.numTokens(), bs) - hit.numBlocks() + hit.numIdle();
        long backlog = head.numTokens() - afterFirstChunk;
        for (Sequence r : queues.running) {
            pagesNeeded += pagesFor(r.numTokens(), bs) - kv.numBlocksOf(r.requestId());
            backlog += r.numTokens() - r.numComputedTokens() - stepTokens.getOrDefault(r, 0);
        }
        int decodesAndHead = queues.running.size() + 1;
        long perStep = Math.max(1, settings.maxNumBatchedTokens() - decodesAndHead);
        long ownSteps = -Math.floorDiv(-(long) (head.numTokens() - afterFirstChunk), settings.maxChunkTokens());
        long backlogSteps = -Math.floorDiv(-backlog, perStep);
        long horizon = 1 + Math.max(ownSteps, backlogSteps);
        int cap = scheduler.maxSequenceTokens();
        for (Sequence r : queues.running) {
            pagesNeeded += pagesFor(Math.min(r.numTokens() + horizon, cap), bs) - pagesFor(r.numTokens(), bs);
        }
        return kv.numFreeBlocks() >= pagesNeeded;
    }

    private static long pagesFor(long tokens, int blockSize) {
        return tokens / blockSize + (tokens % blockSize == 0 ? 0 : 1);
    }

    private void checkRunningProgress(SchedulerOutput out, Map<Sequence, int[]> before) {
        boolean cut = false;
        for (Sequence s : queues.running) {
            int[] snap = before.get(s);
            if (snap[0] != SequenceStatus.RUNNING.ordinal()) {
                continue;
            }
            int remaining = snap[2] - snap[1];
            int n = stepTokens.getOrDefault(s, 0);
            if (remaining == 1) {
                // Decodes are never held back: a running sequence with one token to go is in every step.
                check(n == 1, () -> "running decode " + s + " was stalled");
            } else if (remaining > 1) {
                int full = Math.min(remaining, settings.maxChunkTokens());
                // Oldest first: once one prefill is cut short by the budget, every newer one gets nothing.
                if (cut) {
                    check(n == 0, () -> "newer prefill " + s + " got tokens after an older one was cut");
                } else if (n < full) {
                    cut = true;
                    check(out.numScheduledTokens() == settings.maxNumBatchedTokens(),
                            () -> "prefill " + s + " cut to " + n + " while budget was left");
                }
            }
        }
    }

    private void checkKvAccounting() {
        Set<Integer> held = new HashSet<>();
        int owners = 0;
        int running = 0;
        int waiting = 0;
        for (Sequence s : live) {
            int blocks = kv.numBlocksOf(s.requestId());
            if (s.status() == SequenceStatus.RUNNING) {
                running++;
                int need = kv.blocksNeeded(s.numComputedTokens() + stepTokens.getOrDefault(s, 0));
                check(blocks == need, () -> s + " owns " + blocks + " blocks, needs exactly " + need);
            } else {
                waiting++;
                check(s.status() == SequenceStatus.WAITING && blocks == 0, () -> "waiting sequence owns blocks: " + s);
            }
            for (int page : kv.blocks(s.requestId())) {
                held.add(page);
            }
            owners += blocks > 0 ? 1 : 0;
        }
        int usedFinal = held.size();
        check(kv.numBlocks() - kv.numFreeBlocks() == usedFinal, () -> "pool says " + (kv.numBlocks() - kv.numFreeBlocks())
                + " blocks used, sequences own " + usedFinal);
        check(kv.numRequestsWithBlocks() == owners, () -> "owner count");
        int runningFinal = running;
        int waitingFinal = waiting;
        check(scheduler.numRunning() == runningFinal && queues.running.size() == runningFinal,
                () -> "running: scheduler " + scheduler.numRunning() + ", model " + queues.running.size() + ", seen " + runningFinal);
        check(scheduler.numWaiting() == waitingFinal && queues.waiting.size() == waitingFinal,
                () -> "waiting: scheduler " + scheduler.numWaiting() + ", model " + queues.waiting.size() + ", seen " + waitingFinal);
        for (Sequence s : queues.running) {
            check(s.status() == SequenceStatus.RUNNING, () -> "model says running: " + s);
        }
    }

    static void check(boolean ok, Supplier<String> message) {
        if (!ok) {
            throw new AssertionError(message.get());
        }
    }
}
