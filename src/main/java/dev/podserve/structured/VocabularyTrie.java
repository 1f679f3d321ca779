package dev.podserve.structured;

import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * Every token's bytes in one prefix tree, so that the tokens a recognizer state allows are found by
 * one walk: a byte the state refuses drops every token that continues through it. Built once per
 * model, read-only after, shared by every request and thread.
 *
 * <p>Nodes are numbered breadth first, so the children of a node are one run of ids; node 0 is the
 * root (the empty prefix).
 */
public final class VocabularyTrie {

    /** [vocabSize]: each token's bytes; null for a token that can never be produced under a format (specials). */
    private final byte[][] tokenBytes;
    /** [nodes]: the byte on the edge into the node (the root's is unused). */
    private final byte[] edge;
    /** [nodes]: first child's id; the children are {@code firstChild[n] .. endChild[n] - 1}. */
    private final int[] firstChild;
    /** [nodes]: one past the last child's id. */
    private final int[] endChild;
    /** [nodes + 1]: the tokens whose bytes end at node n are {@code tokens[tokenStart[n] .. tokenStart[n + 1])}. */
    private final int[] tokenStart;
    /** [tokens with bytes]: token ids grouped by the node their bytes end at. */
    private final int[] tokens;
    private final int maxDepth;

    /**
     * @param tokenBytes [vocabSize]: each token id's bytes, null (or empty) for ids no format may
     *                   produce: special tokens, ids the tokenizer does not have
     */
    public VocabularyTrie(byte[][] tokenBytes) {
        this.tokenBytes = tokenBytes.clone();
        Integer[] order = IntStream.range(0, tokenBytes.length)
                .filter(i -> tokenBytes[i] != null && tokenBytes[i].length > 0).boxed().toArray(Integer[]::new);
        Arrays.sort(order, Comparator.comparing((Integer i) -> tokenBytes[i], Arrays::compareUnsigned));
        int n = order.length;
        // At most one node per byte of every token, plus the root.
        long bound = 1 + Arrays.stream(order).mapToLong(i -> tokenBytes[i].length).sum();
        byte[] edgeOf = new byte[(int) bound];
        int[] first = new int[(int) bound];
        int[] end = new int[(int) bound];
        int[] tokStart = new int[(int) bound + 1];
        int[] toks = new int[n];
        // Breadth-first over ranges of the sorted tokens: a node is the range sharing its prefix.
        ArrayDeque<int[]> queue = new ArrayDeque<>();
        queue.add(new int[] {0, n, 0});
        int nodes = 1;
        int placed = 0;
        int deepest = 0;
        for (int node = 0; !queue.isEmpty(); node++) {
            int[] range = queue.poll();
            int lo = range[0];
            int hi = range[1];
            int depth = range[2];
            deepest = Math.max(deepest, depth);
            tokStart[node] = placed;
            // Tokens that end here sort first in their range.
            while (lo < hi && tokenBytes[order[lo]].length == depth) toks[placed++] = order[lo++];
            first[node] = nodes;
            for (int from = lo; from < hi; ) {
                byte b = tokenBytes[order[from]][depth];
                int to = from + 1;
                while (to < hi && tokenBytes[order[to]][depth] == b) to++;
                edgeOf[nodes++] = b;
                queue.add(new int[] {from, to, depth + 1});
                from = to;
            }
            end[node] = nodes;
        }
        tokStart[nodes] = placed;
        this.edge = Arrays.copyOf(edgeOf, nodes);
        this.firstChild = Arrays.copyOf(first, nodes);
        this.endChild = Arrays.copyOf(end, nodes);
        this.tokenStart = Arrays.copyOf(tokStart, nodes + 1);
        this.tokens = toks;
        this.maxDepth = deepest;
    }

    public int vocabSize() {
        return tokenBytes.length;
    }

    public int numNodes() {
        return edge.length;
    }

    /** The token's bytes (not to be written), or null where no format may produce it. */
    byte[] bytes(int token) {
        return token >= 0 && token < tokenBytes.length ? tokenBytes[token] : null;
    }

    /**
     * Sets in {@code mask} [ceil(vocabSize / 64)] the bit of every token that {@code states} can
     * read whole. {@code scratch} [maxDepth + 2] holds one state set per depth of the walk.
     */
    void collect(Frames states, Frames[] scratch, long[] mask) {
        walk(0, states, 1, scratch, mask);
    }

    /** Length of the longest token in bytes: the deepest the walk goes. */
    int maxDepth() {
        return maxDepth;
    }

    private void walk(int node, Frames states, int depth, Frames[] scratch, long[] mask) {
        Frames next = scratch[depth];
        for (int c = firstChild[node]; c < endChild[node]; c++) {
            states.step(edge[c] & 0xFF, next);
            if (next.isEmpty()) continue;
            for (int t = tokenStart[c]; t < tokenStart[c + 1]; t++) mask[tokens[t] >>> 6] |= 1L << tokens[t];
            if (firstChild[c] < endChild[c]) walk(c, next, depth + 1, scratch, mask);
        }
        next.clear();
    }
}
