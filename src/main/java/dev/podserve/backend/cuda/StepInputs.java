package dev.podserve.backend.cuda;

import dev.podserve.attention.HybridBatch;

/**
 * One step's int32 arrays packed back to back into a single device region with one copy: the
 * batch's CSR arrays as they are, plus the prefill plan's work items. Offsets are in ints.
 */
final class StepInputs {

    private final long base;
    private final int capacity;
    private int[] host = new int[1024];
    private int used;

    long tokenIds;
    long positions;
    long qoIndptr;
    long kvIndptr;
    long kvPageIndices;
    long kvLastPageLen;
    long sampleRequests;
    long workItems;

    /** @param region int32 [capacity] on the device */
    StepInputs(DeviceArena.Region region) {
        this.base = region.address();
        this.capacity = (int) (region.bytes() / 4);
    }

    int capacity() {
        return capacity;
    }

    private long append(int[] a) {
        long at = base + 4L * used;
        if (used + a.length > host.length) host = java.util.Arrays.copyOf(host, Math.max(2 * host.length, used + a.length));
        System.arraycopy(a, 0, host, used, a.length);
        // Each array starts 16-byte aligned, so a kernel may read any of them with vector loads.
        used = (used + a.length + 3) & ~3;
        if (used > host.length) host = java.util.Arrays.copyOf(host, used);
        return at;
    }

    void pack(HybridBatch b, int[] prefillWorkItems, DeviceCopies copies) {
        used = 0;
        tokenIds = append(b.tokenIds());
        positions = append(b.positions());
        qoIndptr = append(b.qoIndptr());
        kvIndptr = append(b.kvIndptr());
        kvPageIndices = append(b.kvPageIndices());
        kvLastPageLen = append(b.kvLastPageLen());
        sampleRequests = append(b.sampleRequests());
        workItems = append(prefillWorkItems);
        if (used > capacity) {
            throw new IllegalArgumentException("the step's index arrays need " + used + " ints, more than the " + capacity
                    + " the backend reserved (" + b + ")");
        }
        copies.ints(base, host, used);
    }
}
