package dev.podserve.attention;

import java.util.Arrays;

/**
 * One engine step as every backend sees it: a flat list of query tokens from several requests,
 * prefill chunks first, then single-token decodes, over a paged KV cache.
 *
 * <p>All index arrays are CSR style and are copied to a device as they are. With R requests and T
 * query tokens:
 * <ul>
 *   <li>{@code tokenIds[T]}, {@code positions[T]}: the input token and its absolute position in its
 *       request (RoPE angle and causal limit);</li>
 *   <li>{@code qoIndptr[R+1]}: query rows of request r are {@code qoIndptr[r] .. qoIndptr[r+1]-1};</li>
 *   <li>{@code kvIndptr[R+1]}, {@code kvPageIndices[nnz]}: the pages holding request r's KV, in order,
 *       covering every position up to and including this step's tokens (their K/V are appended by the
 *       backend before attention reads them);</li>
 *   <li>{@code kvLastPageLen[R]}: valid tokens in r's last page, 1..pageSize;</li>
 *   <li>{@code sampleRequests[S]}: the requests whose last query row needs logits this step (a prefill
 *       chunk that does not reach the end of its tokens produces none), ascending.</li>
 * </ul>
 * Requests {@code 0 .. numPrefillRequests-1} have more than one query row or are prompt chunks;
 * the remaining {@code numDecodeRequests} have exactly one query row.
 *
 * <p>{@code attention} is the attention the scheduler chose for this step (mode and SM policy); null
 * when no scheduler chose one (benchmarks, backend tests), and the backend then applies its own
 * configuration.
 */
public record HybridBatch(
        int[] tokenIds,
        int[] positions,
        int[] qoIndptr,
        int[] kvIndptr,
        int[] kvPageIndices,
        int[] kvLastPageLen,
        int[] sampleRequests,
        int numPrefillRequests,
        int numDecodeRequests,
        int pageSize,
        StepAttention attention) {

    /** A batch without a scheduler's attention choice. */
    public HybridBatch(int[] tokenIds, int[] positions, int[] qoIndptr, int[] kvIndptr, int[] kvPageIndices, int[] kvLastPageLen,
                       int[] sampleRequests, int numPrefillRequests, int numDecodeRequests, int pageSize) {
        this(tokenIds, positions, qoIndptr, kvIndptr, kvPageIndices, kvLastPageLen, sampleRequests, numPrefillRequests,
                numDecodeRequests, pageSize, null);
    }

    public HybridBatch {
        int r = numPrefillRequests + numDecodeRequests;
        require(qoIndptr.length == r + 1 && kvIndptr.length == r + 1 && kvLastPageLen.length == r,
                "CSR arrays do not match " + r + " requests");
        require(qoIndptr[0] == 0 && qoIndptr[r] == tokenIds.length && positions.length == tokenIds.length,
                "qoIndptr does not cover the " + tokenIds.length + " query tokens");
        require(kvIndptr[0] == 0 && kvIndptr[r] == kvPageIndices.length, "kvIndptr does not cover kvPageIndices");
        for (int i = 0; i < r; i++) {
            int q = qoIndptr[i + 1] - qoIndptr[i];
            require(q >= 1, "request " + i + " has no query rows");
            require(i < numPrefillRequests || q == 1, "decode request " + i + " has " + q + " query rows");
            int pages = kvIndptr[i + 1] - kvIndptr[i];
            require(pages >= 1 && kvLastPageLen[i] >= 1 && kvLastPageLen[i] <= pageSize,
                    "request " + i + " has a malformed page list");
            // Not kvLength(i): a compact constructor runs before the fields are assigned.
            int kvLen = (pages - 1) * pageSize + kvLastPageLen[i];
            // This step's rows are the context's last q positions, in order: the backends write each
            // row's K/V at its position's slot and attend causally by the rows' order, so a row out of
            // place would write into another request's pages.
            for (int t = qoIndptr[i]; t < qoIndptr[i + 1]; t++) {
                require(positions[t] == kvLen - q + (t - qoIndptr[i]),
                        "request " + i + " rows must be its context's last " + q + " positions in order, ending at its KV end");
            }
        }
        for (int s = 0; s < sampleRequests.length; s++) {
            require(sampleRequests[s] >= 0 && sampleRequests[s] < r && (s == 0 || sampleRequests[s] > sampleRequests[s - 1]),
                    "sampleRequests must be ascending request indices");
        }
    }

    private static void require(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    /** The same step with the given attention choice (the arrays are shared, not copied). */
    public HybridBatch withAttention(StepAttention chosen) {
        return new HybridBatch(tokenIds, positions, qoIndptr, kvIndptr, kvPageIndices, kvLastPageLen, sampleRequests,
                numPrefillRequests, numDecodeRequests, pageSize, chosen);
    }

    public int numRequests() {
        return numPrefillRequests + numDecodeRequests;
    }

    public int numTokens() {
        return tokenIds.length;
    }

    public int prefillTokens() {
        return qoIndptr[numPrefillRequests];
    }

    public int decodeTokens() {
        return numTokens() - prefillTokens();
    }

    /** Tokens in request r's context after this step (prefix already cached plus this step's rows). */
    public int kvLength(int r) {
        return (kvIndptr[r + 1] - kvIndptr[r] - 1) * pageSize + kvLastPageLen[r];
    }

    /** Physical KV slot (page * pageSize + offset) of position p of request r. */
    public int slot(int r, int p) {
        return kvPageIndices[kvIndptr[r] + p / pageSize] * pageSize + p % pageSize;
    }

    @Override
    public String toString() {
        return "HybridBatch[prefills=" + numPrefillRequests + " (" + prefillTokens() + " tokens), decodes="
                + numDecodeRequests + ", qoIndptr=" + Arrays.toString(qoIndptr) + ", sample="
                + Arrays.toString(sampleRequests) + (attention == null ? "" : ", attention=" + attention) + "]";
    }
}
