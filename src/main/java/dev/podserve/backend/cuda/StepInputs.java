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
 * tokenIds [maxTokens] | positions [maxTokens] | qoIndptr [maxRequests+1] | kvIndptr [maxRequests+1]
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
        return 2L * slot(maxTokens) + 2L * slot(maxRequests + 1) + 2L * slot(maxRequests) + slot(4) + slot(2L * maxWorkItems);
    }

    /** @param region int32 [capacity] on the device, at least fixedInts + the largest page list */
    StepInputs(DeviceArena.Region region, int maxTokens, int maxRequests, int maxWorkItems) {
        this.base = region.address();
        this.capacity = (int) (region.bytes() / 4);
        this.maxTokens = maxTokens;
        this.maxRequests = maxRequests;
        this.maxWorkInts = 2 * maxWorkItems;
        int at = 0;
        oTokens = at;
        at += slot(maxTokens);
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
     * Rewrites qoIndptr and sampleRequests so that "request" i's last row is {@code rows[from + i]}:
     * {@code qoIndptr[i + 1] = rows[from + i] + 1}, {@code sampleRequests[i] = i}, for the LM head over
     * chosen rows after a step ({@code StepLauncher.enqueueRowLogits}). The other slots keep the step's values.
     */
    void packRows(int[] rows, int from, int count, DeviceCopies copies) {
        if (count > maxRequests) throw new IllegalArgumentException(count + " rows, more than the " + maxRequests + " reserved");
        host[oQo] = 0;
        for (int i = 0; i < count; i++) {
            host[oQo + 1 + i] = rows[from + i] + 1;
            host[oSample + i] = i;
        }
        copies.ints(qoIndptr, java.util.Arrays.copyOfRange(host, oQo, oQo + count + 1), count + 1);
        copies.ints(sampleRequests, java.util.Arrays.copyOfRange(host, oSample, oSample + count), count);
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
