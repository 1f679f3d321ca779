package dev.podserve.scheduler;

import dev.podserve.attention.HybridBatch;
import dev.podserve.attention.StepAttention;
import dev.podserve.attention.StepAttentionChooser;
import dev.podserve.kvcache.KvCacheManager;

import java.util.List;

/** Turns a step's scheduled sequences into the CSR arrays of a {@link HybridBatch}. */
final class HybridBatchAssembler {

    private HybridBatchAssembler() {
    }

    /**
     * @param ordered     the step's sequences in batch order, multi-token ones first; their computed
     *                    counts are still those before the step
     * @param numPrefills how many leading entries of {@code ordered} have more than one token
     * @param attention   chooses the step's attention from its shape, or null to leave it to the backend
     */
    static HybridBatch assemble(List<ScheduledSequence> ordered, int numPrefills, KvCacheManager kv,
                                StepAttentionChooser attention) {
        int r = ordered.size();
        int pageSize = kv.blockSize();
        int[] qoIndptr = new int[r + 1];
        int[] kvIndptr = new int[r + 1];
        int[] lastPageLen = new int[r];
        int numSamples = 0;
        // First pass sizes the flat arrays, so each is allocated once at its final length.
        for (int i = 0; i < r; i++) {
            ScheduledSequence entry = ordered.get(i);
            int kvLen = entry.sequence().numComputedTokens() + entry.numNewTokens();
            int pages = kv.blocksNeeded(kvLen);
            qoIndptr[i + 1] = qoIndptr[i] + entry.numNewTokens();
            kvIndptr[i + 1] = kvIndptr[i] + pages;
            lastPageLen[i] = kvLen - (pages - 1) * pageSize;
            if (entry.sample()) {
                numSamples++;
            }
        }
        int[] tokenIds = new int[qoIndptr[r]];
        int[] positions = new int[qoIndptr[r]];
        int[] pageIndices = new int[kvIndptr[r]];
        int[] sampleRequests = new int[numSamples];
        numSamples = 0;
        for (int i = 0; i < r; i++) {
            ScheduledSequence entry = ordered.get(i);
            Sequence s = entry.sequence();
            int start = s.numComputedTokens();
            s.copyTokens(start, tokenIds, qoIndptr[i], entry.numNewTokens());
            for (int t = 0; t < entry.numNewTokens(); t++) {
                positions[qoIndptr[i] + t] = start + t;
            }
            kv.copyBlocks(s.requestId(), kvIndptr[i + 1] - kvIndptr[i], pageIndices, kvIndptr[i]);
            if (entry.sample()) {
                sampleRequests[numSamples++] = i;
            }
        }
        StepAttention chosen = attention == null ? null
                : attention.choose(qoIndptr, kvIndptr, lastPageLen, pageSize, numPrefills, r - numPrefills);
        return new HybridBatch(tokenIds, positions, qoIndptr, kvIndptr, pageIndices, lastPageLen, sampleRequests,
                numPrefills, r - numPrefills, pageSize, chosen);
    }
}
