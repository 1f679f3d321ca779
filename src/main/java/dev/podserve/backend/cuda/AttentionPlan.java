package dev.podserve.backend.cuda;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Host-side planning of one attention launch, ported line for line from
 * cuda-kernels/attention/attention_plan.h (split-KV rule, prefill work list, grid, shared memory,
 * partial sizes), so the Java and native tests launch identically.
 *
 * @param workItems  prefill: (request, first packed row) pairs, flattened; empty for decode
 * @param rows       query rows of the launch (the merge grid)
 */
public record AttentionPlan(int[] workItems, int kvChunkSize, int maxSplits, int rows, int gridX, int gridY, int smemBytes,
                            long partialOFloats, long partialLseFloats) {

    static final int THREADS = 128;
    static final int PREFILL_ROWS = 128;
    static final int DECODE_HEADS = 16;
    static final int KEY_ALIGN = 64;
    static final int MIN_CHUNK = 256;
    static final int MAX_SPLITS = 16;
    static final double CTA_OVERHEAD = 48.0;
    static final double MERGE_LAUNCH_US = 4.0;
    static final double MERGE_BYTES_PER_US = 3.0e6;
    static final double PREFILL_KEY_US = 1.0 / 20.0;
    static final double LONE_SPEEDUP = 1.25;
    /** attention_plan.h kDecodeBytesPerUs: the card's K/V streaming rate in the decode split model (fitted). */
    static final double DECODE_BYTES_PER_US = 4.4032e6;
    /** attention_plan.h kDecodeCtaBytesPerUs: one decode CTA's streaming rate. */
    static final double DECODE_CTA_BYTES_PER_US = 16896.0;
    /** attention_plan.h kDecodeCtaOverheadBytes: a decode CTA's fixed cost, as bytes streamed at its rate. */
    static final double DECODE_CTA_OVERHEAD_BYTES = 196608.0;
    /** attention_plan.h kDecodeSplitUs: what a split decode launch adds (partial rows, in-kernel merges). */
    static final double DECODE_SPLIT_US = 8.0;
    /** attention_plan.h kDecodeReplayRounds: decodeTimeUs replays up to this many CTAs per slot, then estimates. */
    static final int DECODE_REPLAY_ROUNDS = 8;
    /** attention_plan.h kSmSharedMemBytes: shared memory per SM on Hopper, 1 KB of it reserved per CTA. */
    static final int SM_SHARED_MEM_BYTES = 233472;
    static final int DECODE_SMEM_HD16 = 12800;
    static final int DECODE_SMEM_HD32 = 25600;
    static final int DECODE_SMEM_HD64 = 51200;
    static final int DECODE_SMEM_HD128 = 102400;
    static final int PREFILL_SMEM_HD16 = 12800;
    static final int PREFILL_SMEM_HD32 = 25088;
    static final int PREFILL_SMEM_HD64 = 49792;
    static final int PREFILL_SMEM_HD128 = 98944;
    /** pod_params.h: the fused kernel's 4-CTAs-per-SM shape (64-row prefill items, its own shared memory). */
    static final int POD4_PREFILL_ROWS = 64;
    static final int POD4_SMEM_HD16 = 10752;
    static final int POD4_SMEM_HD32 = 20992;
    static final int POD4_SMEM_HD64 = 41472;
    static final int POD4_SMEM_HD128 = 49408;

    public boolean needsMerge() {
        return maxSplits > 1;
    }

    public int numWorkItems() {
        return workItems.length / 2;
    }

    /** attention_plan.h's merge_grid_y: CTAs per row of the merge, 8 dims of one head per thread. */
    static int mergeGridY(int numQoHeads, int headDim) {
        int headsPerCta = Math.max(1, THREADS / Math.max(1, headDim / 8));
        return (numQoHeads + headsPerCta - 1) / headsPerCta;
    }

    static boolean supportedHeadDim(int headDim) {
        return headDim == 16 || headDim == 32 || headDim == 64 || headDim == 128;
    }

    static int decodeSmem(int headDim) {
        return switch (headDim) {
            case 16 -> DECODE_SMEM_HD16;
            case 32 -> DECODE_SMEM_HD32;
            case 64 -> DECODE_SMEM_HD64;
            default -> DECODE_SMEM_HD128;
        };
    }

    static int prefillSmem(int headDim) {
        return switch (headDim) {
            case 16 -> PREFILL_SMEM_HD16;
            case 32 -> PREFILL_SMEM_HD32;
            case 64 -> PREFILL_SMEM_HD64;
            default -> PREFILL_SMEM_HD128;
        };
    }

    /** attention_plan.h's pod_smem: the fused kernel's dynamic shared memory at 2 or 4 CTAs per SM. */
    static int podSmem(int headDim, int ctasPerSm) {
        if (ctasPerSm == 4) {
            return switch (headDim) {
                case 16 -> POD4_SMEM_HD16;
                case 32 -> POD4_SMEM_HD32;
                case 64 -> POD4_SMEM_HD64;
                default -> POD4_SMEM_HD128;
            };
        }
        return Math.max(decodeSmem(headDim), prefillSmem(headDim));
    }

    private static int roundUp(int x, int m) {
        return (x + m - 1) / m * m;
    }

    /**
     * Finish time of the last CTA when {@code pieces[0, count)} (durations, launch order) each start
     * on the slot that frees first, of {@code slots} slots free at 0. The slots' free times are a
     * binary min-heap in a primitive array: the step's planning runs on the engine thread before
     * any launch, so the GPU waits for it, and this loop was 0.4 ms of a hybrid step on boxed
     * doubles. The result depends only on the smallest free time at each piece, so it is the same,
     * to the bit, as std::priority_queue's in attention_plan.h (PodPlanParityTest).
     */
    static double listSchedule(double[] pieces, int count, int slots) {
        double[] heap = new double[slots];  // [slots] free times, heap-ordered; all 0 at the start
        double end = 0;
        for (int i = 0; i < count; i++) {
            double t = heap[0] + pieces[i];
            replaceRoot(heap, slots, t);
            end = Math.max(end, t);
        }
        return end;
    }

    /** The smallest of min-heap {@code heap[0, size)} becomes {@code t}: t sifted down from the root. */
    private static void replaceRoot(double[] heap, int size, double t) {
        int j = 0;
        while (true) {
            int c = 2 * j + 1;
            if (c >= size) break;
            if (c + 1 < size && heap[c + 1] < heap[c]) c++;
            if (heap[c] >= t) break;
            heap[j] = heap[c];
            j = c;
        }
        heap[j] = t;
    }

    /** attention_plan.h's decode_slots_per_sm: decode CTAs resident per SM, as their shared memory allows. */
    static int decodeSlotsPerSm(int headDim) {
        return Math.min(16, SM_SHARED_MEM_BYTES / (decodeSmem(headDim) + 1024));
    }

    /**
     * attention_plan.h's decode_time_us: microseconds for decode CTAs of {@code pieces[0, count)}
     * keys (launch order) on {@code slots} slots. While CTAs wait, every slot streams at min(one CTA's
     * rate, card / slots) and a CTA takes the slot that frees first; then the running ones drain,
     * each at min(one CTA's rate, card / still running). Past DECODE_REPLAY_ROUNDS CTAs per slot: the
     * fluid estimate plus half a piece. The same arithmetic in the same order as the header
     * (PodPlanParityTest).
     */
    static double decodeTimeUs(double[] pieces, int count, int slots, int headDim) {
        double keyBytes = 4.0 * headDim;  // K and V rows of one kv head, bf16
        double card = DECODE_BYTES_PER_US / keyBytes;
        double cta = DECODE_CTA_BYTES_PER_US / keyBytes;
        double overhead = DECODE_CTA_OVERHEAD_BYTES / keyBytes;
        double full = Math.min(cta, card / slots);
        if (count > (long) DECODE_REPLAY_ROUNDS * slots) {
            double work = 0;
            double longest = 0;
            for (int i = 0; i < count; i++) {
                work += pieces[i] + overhead;
                longest = Math.max(longest, pieces[i]);
            }
            return work / (slots * full) + (longest + overhead) / (2 * full);
        }
        double[] left;  // [CTAs still running when the last one starts] work left, then sorted
        double start = 0;
        if (count <= slots) {
            left = new double[count];
            for (int i = 0; i < count; i++) left[i] = pieces[i] + overhead;
        } else {
            // [slots] work done at each slot's finish, a binary min-heap as in listSchedule.
            double[] heap = new double[slots];
            for (int i = 0; i < slots; i++) heap[i] = pieces[i] + overhead;
            Arrays.sort(heap);  // a sorted array is a min-heap
            for (int i = slots; i < count; i++) {
                start = heap[0];
                replaceRoot(heap, slots, start + pieces[i] + overhead);
            }
            left = heap;
            for (int i = 0; i < slots; i++) left[i] -= start;
        }
        Arrays.sort(left);
        double t = start / full;
        double finished = 0;
        for (int i = 0; i < left.length; i++) {
            double rate = Math.min(cta, card / (double) (left.length - i));
            t += (left[i] - finished) / rate;
            finished = left[i];
        }
        return t;
    }

    /**
     * Fills {@code pieces} with the CTA durations (keys plus {@code overhead}) in launch order:
     * grid.y (split) is the slow index, so every unit's piece 0 comes first. Returns how many.
     */
    private static int launchOrderPieces(int[] unitKeys, int splits, int chunk, double overhead, double[] pieces) {
        int count = 0;
        for (int p = 0; p < splits; p++) {
            for (int k : unitKeys) if (k > p * chunk) pieces[count++] = Math.min(chunk, k - p * chunk) + overhead;
        }
        return count;
    }

    /** {@code buffer}, or a new array when it is missing or shorter than {@code length}. */
    private static double[] atLeast(double[] buffer, int length) {
        return buffer != null && buffer.length >= length ? buffer : new double[length];
    }

    /**
     * {kvChunkSize, maxSplits}: attention_plan.h's choose_split. Decode is costed in microseconds by
     * replaying its CTAs on the decode slots (decodeTimeUs) plus DECODE_SPLIT_US when split; prefill
     * in key steps by replaying the block scheduler on 2 CTA slots per SM, a split adding the merge
     * launch and its fp32 partial traffic.
     *
     * @param bytesPerRowSplit fp32 partial bytes one query row adds per split (heads * headDim * 8)
     * @param headDim          the decode's key bytes and slots
     */
    static int[] chooseSplit(int[] unitKeys, boolean decode, int numSms, double rows, double bytesPerRowSplit, int headDim) {
        int maxKeys = 1;
        double total = 0;
        for (int k : unitKeys) {
            maxKeys = Math.max(maxKeys, k);
            total += k;
        }
        int[] best = {roundUp(maxKeys, KEY_ALIGN), 1};
        double bestCost = 1e300;
        int lastChunk = -1;
        int decodeSlots = decodeSlotsPerSm(headDim) * numSms;
        double[] pieces = null;  // [units * splits] CTA durations in launch order, for the replays
        for (int s = 1; s <= MAX_SPLITS; s++) {
            int chunk = roundUp((maxKeys + s - 1) / s, KEY_ALIGN);
            if (chunk == lastChunk) continue;
            if (s > 1 && chunk < MIN_CHUNK) break;
            lastChunk = chunk;
            int splits = (maxKeys + chunk - 1) / chunk;
            double cost;
            if (decode) {
                pieces = atLeast(pieces, unitKeys.length * splits);
                int count = launchOrderPieces(unitKeys, splits, chunk, 0.0, pieces);
                cost = decodeTimeUs(pieces, count, decodeSlots, headDim) + (splits > 1 ? DECODE_SPLIT_US : 0.0);
            } else {
                double ctas = 0;
                for (int k : unitKeys) ctas += (k + chunk - 1) / chunk;
                if (ctas <= numSms) {
                    cost = (Math.min(chunk, maxKeys) + CTA_OVERHEAD) / LONE_SPEEDUP;
                } else if (ctas <= 4.0 * 2 * numSms) {
                    pieces = atLeast(pieces, unitKeys.length * splits);
                    cost = listSchedule(pieces, launchOrderPieces(unitKeys, splits, chunk, CTA_OVERHEAD, pieces), 2 * numSms);
                } else {
                    cost = Math.max((double) Math.min(chunk, maxKeys), (total + CTA_OVERHEAD * ctas) / (2 * numSms));
                }
                if (splits > 1) {
                    cost += (MERGE_LAUNCH_US + rows * splits * bytesPerRowSplit / MERGE_BYTES_PER_US) / PREFILL_KEY_US;
                }
            }
            if (cost < bestCost) {
                bestCost = cost;
                best = new int[] {chunk, splits};
            }
        }
        return best;
    }

    static int kvLen(int[] kvIndptr, int[] kvLastPageLen, int r, int pageSize) {
        return (kvIndptr[r + 1] - kvIndptr[r] - 1) * pageSize + kvLastPageLen[r];
    }

    /** One CTA per (request, kv head, chunk of up to 16 group heads); forceChunk &gt; 0 overrides the rule. */
    static AttentionPlan decode(int[] qoIndptr, int[] kvIndptr, int[] kvLastPageLen, int begin, int count, int pageSize,
                                int numQoHeads, int numKvHeads, int headDim, int numSms, int forceChunk) {
        int group = numQoHeads / numKvHeads;
        int headChunks = (group + DECODE_HEADS - 1) / DECODE_HEADS;
        int units = numKvHeads * headChunks;
        int[] keys = new int[count * units];  // [count][units]: every unit of a request has its key count
        int maxKeys = 1;
        for (int r = begin; r < begin + count; r++) {
            int k = kvLen(kvIndptr, kvLastPageLen, r, pageSize);
            maxKeys = Math.max(maxKeys, k);
            Arrays.fill(keys, (r - begin) * units, (r - begin + 1) * units, k);
        }
        int chunk;
        int splits;
        if (forceChunk > 0) {
            chunk = forceChunk;
            splits = (maxKeys + forceChunk - 1) / forceChunk;
        } else {
            int[] c = chooseSplit(keys, true, numSms, count, 8.0 * numQoHeads * headDim, headDim);
            chunk = c[0];
            splits = c[1];
        }
        int rows = qoIndptr[begin + count] - qoIndptr[begin];
        return new AttentionPlan(new int[0], chunk, splits, rows, count * numKvHeads * headChunks, splits, decodeSmem(headDim),
                (long) rows * splits * numQoHeads * headDim, (long) rows * splits * numQoHeads);
    }

    /** Work items of {@link #PREFILL_ROWS}, the standalone kernel's. */
    static AttentionPlan prefill(int[] qoIndptr, int[] kvIndptr, int[] kvLastPageLen, int begin, int count, int pageSize,
                                 int numQoHeads, int numKvHeads, int headDim, int numSms, int forceChunk) {
        return prefill(qoIndptr, kvIndptr, kvLastPageLen, begin, count, pageSize, numQoHeads, numKvHeads, headDim, numSms,
                forceChunk, PREFILL_ROWS);
    }

    /**
     * Work items of rowsPerItem packed rows (row i, group head g -&gt; i * group + g) per request,
     * largest key count first; forceChunk &gt; 0 overrides the split rule. rowsPerItem: {@link #PREFILL_ROWS},
     * or {@link #POD4_PREFILL_ROWS} for the fused kernel at 4 CTAs per SM.
     */
    static AttentionPlan prefill(int[] qoIndptr, int[] kvIndptr, int[] kvLastPageLen, int begin, int count, int pageSize,
                                 int numQoHeads, int numKvHeads, int headDim, int numSms, int forceChunk, int rowsPerItem) {
        int group = numQoHeads / numKvHeads;
        List<int[]> items = new ArrayList<>();
        for (int r = begin; r < begin + count; r++) {
            int qlen = qoIndptr[r + 1] - qoIndptr[r];
            int kvLen = kvLen(kvIndptr, kvLastPageLen, r, pageSize);
            for (int m0 = 0; m0 < qlen * group; m0 += rowsPerItem) {
                int lastRow = Math.min(m0 + rowsPerItem, qlen * group) - 1;
                items.add(new int[] {r, m0, kvLen - qlen + lastRow / group + 1});
            }
        }
        // List.sort is stable, as std::stable_sort.
        items.sort((a, b) -> Integer.compare(b[2], a[2]));
        int[] work = new int[2 * items.size()];
        int[] keys = new int[items.size() * numKvHeads];  // [items][kv heads]
        int maxKeys = 1;
        for (int i = 0; i < items.size(); i++) {
            work[2 * i] = items.get(i)[0];
            work[2 * i + 1] = items.get(i)[1];
            maxKeys = Math.max(maxKeys, items.get(i)[2]);
            Arrays.fill(keys, i * numKvHeads, (i + 1) * numKvHeads, items.get(i)[2]);
        }
        int chunk = forceChunk > 0 ? forceChunk
                : chooseSplit(keys, false, numSms, qoIndptr[begin + count] - qoIndptr[begin], 8.0 * numQoHeads * headDim, headDim)[0];
        int splits = (maxKeys + chunk - 1) / chunk;
        int rows = qoIndptr[begin + count] - qoIndptr[begin];
        return new AttentionPlan(work, chunk, splits, rows, items.size() * numKvHeads, splits, prefillSmem(headDim),
                (long) rows * splits * numQoHeads * headDim, (long) rows * splits * numQoHeads);
    }
}
