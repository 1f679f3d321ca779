package dev.podserve.sampling;

/**
 * Packs (logit, token id) into one long whose natural ascending order is "higher logit first,
 * lower id first on ties". Sorting and selecting plain longs avoids boxing and comparators over a
 * 128K vocabulary, and the id in the low bits makes every key distinct, so ties break the same way
 * on every run.
 */
final class RankKeys {

    private RankKeys() {
    }

    static long key(float logit, int token) {
        // Adding 0.0f folds -0.0 into 0.0 so that the two zeros tie instead of ranking apart.
        int bits = Float.floatToRawIntBits(logit + 0.0f);
        // Flip the magnitude bits of negatives so that signed int order equals float order ...
        int ascending = bits < 0 ? bits ^ 0x7fffffff : bits;
        // ... then complement, which reverses the order without the overflow that negation has.
        return ((long) ~ascending << 32) | (token & 0xffffffffL);
    }

    static int token(long key) {
        return (int) key;
    }

    /**
     * Rearranges keys[0, n) so that its k smallest keys (the k best tokens) occupy [0, k), in no
     * particular order. Expected O(n).
     */
    static void selectSmallest(long[] keys, int n, int k) {
        int lo = 0;
        int hi = n - 1;
        while (lo < hi) {
            int p = partition(keys, lo, hi);
            if (p == k - 1 || p == k) return;
            if (p < k) lo = p + 1; else hi = p - 1;
        }
    }

    /** Lomuto partition around the median of three; returns the pivot's final index. */
    private static int partition(long[] a, int lo, int hi) {
        int mid = (lo + hi) >>> 1;
        if (a[mid] < a[lo]) swap(a, mid, lo);
        if (a[hi] < a[lo]) swap(a, hi, lo);
        if (a[hi] < a[mid]) swap(a, hi, mid);
        swap(a, mid, hi);
        long pivot = a[hi];
        int store = lo;
        for (int i = lo; i < hi; i++) {
            if (a[i] < pivot) swap(a, i, store++);
        }
        swap(a, store, hi);
        return store;
    }

    /** Turns keys[0, n) into a binary min-heap, so the best token is at the root. O(n). */
    static void heapify(long[] heap, int n) {
        for (int i = (n >>> 1) - 1; i >= 0; i--) siftDown(heap, i, n);
    }

    /** Removes and returns the smallest key of heap[0, n); the heap then occupies [0, n - 1). */
    static long pollSmallest(long[] heap, int n) {
        long top = heap[0];
        heap[0] = heap[n - 1];
        siftDown(heap, 0, n - 1);
        return top;
    }

    private static void siftDown(long[] heap, int i, int n) {
        long v = heap[i];
        while (true) {
            int child = 2 * i + 1;
            if (child >= n) break;
            if (child + 1 < n && heap[child + 1] < heap[child]) child++;
            if (heap[child] >= v) break;
            heap[i] = heap[child];
            i = child;
        }
        heap[i] = v;
    }

    private static void swap(long[] a, int i, int j) {
        long t = a[i];
        a[i] = a[j];
        a[j] = t;
    }
}
