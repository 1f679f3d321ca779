package dev.podserve.structured;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.stream.IntStream;

/**
 * Every token's bytes in one prefix tree, so that the tokens a recognizer state allows are found by
 * one walk: a byte the state refuses drops every token that continues through it. Built once per
 * model, read-only after (but for sets made once on first use), shared by every request and thread.
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
    /** [nodes]: whether the node's edge or any edge below it is a double quote (a string may close there). */
    private final boolean[] quoteBelow;
    /**
     * [string lexer state] → the tokens that a JSON string in that state takes whole without
     * closing: made on first use, then shared. They do not depend on what holds the string.
     */
    private final AtomicReferenceArray<long[]> insideString = new AtomicReferenceArray<>(StringLexer.STATES);
    /** The same for member names, whose escapes are stricter ({@link StringLexer#nextInName}). */
    private final AtomicReferenceArray<long[]> insideName = new AtomicReferenceArray<>(StringLexer.STATES);
    /**
     * [vocabSize]: the characters each token adds to a string it stays inside of, read from
     * between two characters; -1 for a token that would close or break the string. Made on first use.
     */
    private volatile int[] charsInsideString;
    /** [ceil(vocabSize / 64)]: {@link #blankTokens}, made on first use. */
    private volatile long[] blankTokens;
    /** Per closing tag (its bytes as ISO-8859-1 text): {@link #tokensCompleting}'s lists, made once each. */
    private final ConcurrentHashMap<String, int[][]> completing = new ConcurrentHashMap<>();

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
        // Children have larger ids than their parent: one pass from the last node up.
        this.quoteBelow = new boolean[nodes];
        for (int node = nodes - 1; node >= 0; node--) {
            boolean q = node > 0 && edge[node] == '"';
            for (int c = firstChild[node]; c < endChild[node] && !q; c++) q = quoteBelow[c];
            quoteBelow[node] = q;
        }
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
        walk(0, states, 1, scratch, mask, false);
    }

    /**
     * As {@link #collect}, for states that are one JSON string's inside in lexer state {@code lex}
     * ({@code name}: a member name's), whatever holds it: the tokens that stay inside are a set made once per state, and only the
     * paths through a quote (where the string may close and what holds it takes over) are walked.
     */
    void collectInsideString(int lex, boolean name, Frames states, Frames[] scratch, long[] mask) {
        AtomicReferenceArray<long[]> cache = name ? insideName : insideString;
        long[] inside = cache.get(lex);
        if (inside == null) {
            inside = new long[mask.length];
            markInsideString(0, lex, name, inside);
            cache.compareAndSet(lex, null, inside);
        }
        System.arraycopy(inside, 0, mask, 0, mask.length);
        walk(0, states, 1, scratch, mask, true);
    }

    /**
     * As {@link #collectInsideString} between two characters of a string with room for
     * {@code room} more: the tokens inside it with at most that many characters.
     */
    void collectInsideShortString(int room, Frames states, Frames[] scratch, long[] mask) {
        int[] chars = charsInsideString;
        if (chars == null) {
            chars = new int[tokenBytes.length];
            java.util.Arrays.fill(chars, -1);
            countInsideString(0, StringLexer.NORMAL, 0, chars);
            charsInsideString = chars;
        }
        java.util.Arrays.fill(mask, 0);
        for (int t = 0; t < chars.length; t++) {
            if (chars[t] >= 0 && chars[t] <= room) mask[t >>> 6] |= 1L << t;
        }
        walk(0, states, 1, scratch, mask, true);
    }

    private void countInsideString(int node, int lex, int count, int[] chars) {
        for (int c = firstChild[node]; c < endChild[node]; c++) {
            int b = edge[c] & 0xFF;
            if (lex == StringLexer.NORMAL && b == '"') continue;
            int next = StringLexer.next(lex, b);
            if (next == StringLexer.REJECT) continue;
            int n = StringLexer.startsCharacter(lex) ? count + 1 : count;
            for (int t = tokenStart[c]; t < tokenStart[c + 1]; t++) chars[tokens[t]] = n;
            countInsideString(c, next, n, chars);
        }
    }

    private void markInsideString(int node, int lex, boolean name, long[] mask) {
        for (int c = firstChild[node]; c < endChild[node]; c++) {
            int b = edge[c] & 0xFF;
            if (lex == StringLexer.NORMAL && b == '"') continue;
            int next = name ? StringLexer.nextInName(lex, b) : StringLexer.next(lex, b);
            if (next == StringLexer.REJECT) continue;
            for (int t = tokenStart[c]; t < tokenStart[c + 1]; t++) mask[tokens[t] >>> 6] |= 1L << tokens[t];
            markInsideString(c, next, name, mask);
        }
    }

    /** Length of the longest token in bytes: the deepest the walk goes. */
    int maxDepth() {
        return maxDepth;
    }

    /** @param quotedOnly only the paths through a quote, up to and including the first one */
    private void walk(int node, Frames states, int depth, Frames[] scratch, long[] mask, boolean quotedOnly) {
        Frames next = scratch[depth];
        for (int c = firstChild[node]; c < endChild[node]; c++) {
            if (quotedOnly && !quoteBelow[c]) continue;
            states.step(edge[c] & 0xFF, next);
            if (next.isEmpty()) continue;
            for (int t = tokenStart[c]; t < tokenStart[c + 1]; t++) mask[tokens[t] >>> 6] |= 1L << tokens[t];
            if (firstChild[c] < endChild[c]) walk(c, next, depth + 1, scratch, mask, quotedOnly && edge[c] != '"');
        }
        next.clear();
    }

    /**
     * The tokens that can complete {@code tag} in ordinary text: [0] those whose bytes hold it whole,
     * [k] (0 < k < tag length) those whose bytes begin with its last length - k bytes, which complete
     * it after text ending in its first k. Made once per vocabulary and tag, for every request that
     * asks (a reasoning model's closing tag under a format), since it walks the whole vocabulary.
     */
    int[][] tokensCompleting(byte[] tag) {
        return completing.computeIfAbsent(new String(tag, StandardCharsets.ISO_8859_1), key -> {
            List<List<Integer>> lists = new ArrayList<>();
            for (int k = 0; k < Math.max(1, tag.length); k++) lists.add(new ArrayList<>());
            for (int t = 0; t < tokenBytes.length; t++) {
                byte[] b = tokenBytes[t];
                if (b == null || b.length == 0) continue;
                if (ByteText.indexOf(b, tag) >= 0) lists.get(0).add(t);
                for (int k = 1; k < tag.length; k++) {
                    int n = tag.length - k;
                    if (b.length >= n && Arrays.equals(b, 0, n, tag, k, tag.length)) lists.get(k).add(t);
                }
            }
            int[][] out = new int[lists.size()][];
            for (int k = 0; k < lists.size(); k++) out[k] = lists.get(k).stream().mapToInt(Integer::intValue).toArray();
            return out;
        });
    }

    /** The tokens whose bytes are all JSON blanks, as a mask: a reasoning answer may open with them. Made once. */
    long[] blankTokens() {
        long[] mask = blankTokens;
        if (mask == null) {
            mask = new long[(tokenBytes.length + 63) / 64];
            for (int t = 0; t < tokenBytes.length; t++) {
                byte[] b = tokenBytes[t];
                if (b != null && b.length > 0 && ByteText.skipBlanks(b, 0) == b.length) mask[t >>> 6] |= 1L << t;
            }
            blankTokens = mask;
        }
        return mask;
    }
}
