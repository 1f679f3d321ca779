package dev.podserve.backend.cuda;

import dev.podserve.attention.HybridBatch;

/**
 * One step's int32 arrays in a single device region, sent with one copy: the batch's CSR arrays as
 * they are, the decode split rule, and the prefill plan's work items.
 *
 * <p>Every array has a fixed slot sized for the largest step, so its device address never changes:
 * a captured CUDA graph keeps reading the right place while the host rewrites the contents each
 * step. The page list, the only array whose length is not bounded by the step's token or request
 * count, comes last, and only the used prefix of the region is copied. Slots start 16-byte aligned
 * so kernels may read them with vector loads.
 *
 * <pre>
 * tokenIds [maxTokens+1] | positions [maxTokens] | qoIndptr [maxRequests+1] | kvIndptr [maxRequests+1]
 * | kvLastPageLen [maxRequests] | sampleRequests [maxRequests] | splitPlan [4] | workItems [maxWorkItems*2]
 * | kvPageIndices [rest]
 * </pre>
 */
final class StepInputs {

    private final long base;
    private final int capacity;
    private final int[] host;

    final long tokenIds;
    final long positions;
    final long qoIndptr;
    final long kvIndptr;
    final long kvLastPageLen;
    final long sampleRequests;
    /** int32 [2] {kvChunkSize, maxSplits} of a captured decode (PsAttentionParams.splitPlan). */
    final long splitPlan;
    final long workItems;
    final long kvPageIndices;

    private final int oTokens;
    private final int oPositions;
    private final int oQo;
    private final int oKv;
    private final int oLast;
    private final int oSample;
    private final int oSplit;
    private final int oWork;
    private final int oPages;
    private final int maxTokens;
    private final int maxRequests;
    private final int maxWorkInts;

    private static int slot(long n) {
        return (int) ((n + 3) & ~3L);
    }

    /** Ints of the fixed slots, before the page list. */
    static long fixedInts(int maxTokens, int maxRequests, int maxWorkItems) {
        return slot(maxTokens + 1L) + slot(maxTokens) + 2L * slot(maxRequests + 1) + 2L * slot(maxRequests) + slot(4) + slot(2L * maxWorkItems);
    }

    /** @param region int32 [capacity] on the device, at least fixedInts + the largest page list */
    StepInputs(DeviceArena.Region region, int maxTokens, int maxRequests, int maxWorkItems) {
        this.base = region.address();
        if (region.bytes() / 4 > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("step inputs of " + region.bytes() / 4 + " ints: more than one Java array holds"
                    + " (max-num-seqs x the pages of a whole context); lower max-num-seqs or max-model-len, or raise the block size");
        }
        this.capacity = (int) (region.bytes() / 4);
        this.maxTokens = maxTokens;
        this.maxRequests = maxRequests;
        this.maxWorkInts = 2 * maxWorkItems;
        int at = 0;
        oTokens = at;
        // One more than a step's tokens: after the step it holds packRows' rowIndptr, which may
        // cover every row of a full step (a mid-prompt chunk's rows all predict prompt tokens).
        at += slot(maxTokens + 1L);
        oPositions = at;
        at += slot(maxTokens);
        oQo = at;
        at += slot(maxRequests + 1);
        oKv = at;
        at += slot(maxRequests + 1);
        oLast = at;
        at += slot(maxRequests);
        oSample = at;
        at += slot(maxRequests);
        oSplit = at;
        at += slot(4);
        oWork = at;
        at += slot(maxWorkInts);
        oPages = at;
        if (oPages > capacity) throw new IllegalArgumentException("step input region of " + capacity + " ints is too small");
        this.host = new int[capacity];
        tokenIds = base + 4L * oTokens;
        positions = base + 4L * oPositions;
        qoIndptr = base + 4L * oQo;
        kvIndptr = base + 4L * oKv;
        kvLastPageLen = base + 4L * oLast;
        sampleRequests = base + 4L * oSample;
        splitPlan = base + 4L * oSplit;
        workItems = base + 4L * oWork;
        kvPageIndices = base + 4L * oPages;
    }

    int capacity() {
        return capacity;
    }

    private void put(int[] a, int offset, int slotInts, String what) {
        if (a.length > slotInts) throw new IllegalArgumentException(what + " has " + a.length + " entries, more than the " + slotInts + " reserved");
        System.arraycopy(a, 0, host, offset, a.length);
    }

    /**
     * For the LM head over chosen rows after a step ({@code StepLauncher.enqueueRowGroup}): the
     * step's token ids and positions are spent, so their slots take {@code rowIndptr} int32
     * [rows+1] = {0, rows[0] + 1, rows[1] + 1, ...} and {@code rowIndex} int32 [group] = {0, 1, ...}.
     * Group g's rows [from, from + n) are then "requests" 0..n-1 whose last rows are the chosen ones,
     * read through {@code rowIndptr + 4 * from} and {@code rowIndex}: one upload serves every group.
     */
    void packRows(int[] rows, int group, DeviceCopies copies) {
        if (rows.length + 1 > slot(maxTokens + 1L) || group > slot(maxTokens)) {
            throw new IllegalArgumentException(rows.length + " rows in groups of " + group + " exceed the " + maxTokens + " reserved");
        }
        host[oTokens] = 0;
        for (int i = 0; i < rows.length; i++) host[oTokens + 1 + i] = rows[i] + 1;
        for (int i = 0; i < group; i++) host[oPositions + i] = i;
        copies.ints(tokenIds, java.util.Arrays.copyOfRange(host, oTokens, oTokens + rows.length + 1), rows.length + 1);
        copies.ints(positions, java.util.Arrays.copyOfRange(host, oPositions, oPositions + group), group);
    }

    /** {@link #packRows}' arrays: int32 [rows+1] cumulative "request" ends, and int32 [group] 0, 1, 2, ... */
    long rowIndptr() {
        return tokenIds;
    }

    long rowIndex() {
        return positions;
    }

    /** @param splitPlan {kvChunkSize, maxSplits} of a captured decode, or null */
    void pack(HybridBatch b, int[] prefillWorkItems, int[] splitPlan, DeviceCopies copies) {
        put(b.tokenIds(), oTokens, maxTokens, "tokenIds");
        put(b.positions(), oPositions, maxTokens, "positions");
        put(b.qoIndptr(), oQo, maxRequests + 1, "qoIndptr");
        put(b.kvIndptr(), oKv, maxRequests + 1, "kvIndptr");
        put(b.kvLastPageLen(), oLast, maxRequests, "kvLastPageLen");
        put(b.sampleRequests(), oSample, maxRequests, "sampleRequests");
        if (splitPlan != null) put(splitPlan, oSplit, 4, "splitPlan");
        put(prefillWorkItems, oWork, maxWorkInts, "prefill work items");
        int pages = b.kvPageIndices().length;
        if (oPages + pages > capacity) {
            throw new IllegalArgumentException("the step's " + pages + " KV pages exceed the " + (capacity - oPages)
                    + " the backend reserved (" + b + ")");
        }
        System.arraycopy(b.kvPageIndices(), 0, host, oPages, pages);
        copies.ints(base, host, oPages + pages);
    }
}
