package dev.podserve.bench.serve;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Builds the requests of a workload from a seed, so two servers compared with the same flags see
 * exactly the same prompts and output lengths.
 *
 * <p>Token-id prompts draw ids uniformly from {@code [idLow, idHigh)}: the default 0..255 exists in
 * every vocabulary worth benchmarking and holds no special tokens of the embedded byte-level model.
 * Text prompts are random common words; in BPE vocabularies a space-prefixed common word is about
 * one token, so a text prompt of N words is roughly N tokens (the reported prompt tokens come from
 * the server's usage, not from this estimate).
 */
public final class WorkloadGenerator {

    /** The paper's offline case. */
    public static final int LONG_PROMPT_INPUT = 16384;
    public static final int LONG_PROMPT_OUTPUT = 1024;
    /** Mixed workload: what a chat turn and a long document look like before scaling. */
    public static final LengthRange CHAT_INPUT = new LengthRange(64, 512);
    public static final LengthRange CHAT_OUTPUT = new LengthRange(64, 256);
    public static final LengthRange DOCUMENT_INPUT = new LengthRange(8192, 16384);
    public static final LengthRange DOCUMENT_OUTPUT = new LengthRange(256, 1024);

    private static final String[] WORDS = ("the of and to in is that for it as was with be by on not he this are or his from at which "
            + "but have an they you were her she there one all we their has been would when who will more no if out so said what up "
            + "its about than into them can only other new some could time these two may then do first any my now such like our over "
            + "man me even most made after also did many before must through back years where much your way well down should because "
            + "each just those people how too little state good very make world still own see men work long get here between both life "
            + "being under never day same another know while last might us great old year off come since against go came right used "
            + "take three").split(" ");

    private final WorkloadKind kind;
    private final LengthRange inputLen;
    private final LengthRange outputLen;
    private final int scale;
    private final double longFraction;
    private final boolean tokenIds;
    private final int idLow;
    private final int idHigh;
    /** Token ids or words every prompt starts with; empty without a shared prefix. */
    private final int[] prefixIds;
    private final String prefixText;

    public WorkloadGenerator(WorkloadKind kind, LengthRange inputLen, LengthRange outputLen, int scale, double longFraction,
            boolean tokenIds, int idLow, int idHigh) {
        this(kind, inputLen, outputLen, scale, longFraction, tokenIds, idLow, idHigh, 0);
    }

    /**
     * @param prefixLen tokens (or words) every prompt starts with before its own, like a system prompt all
     *                  requests share. Drawn from a seed of its own, so every probe of a capacity search
     *                  (which draws its prompts afresh) and every server compared sees the same prefix.
     */
    public WorkloadGenerator(WorkloadKind kind, LengthRange inputLen, LengthRange outputLen, int scale, double longFraction,
            boolean tokenIds, int idLow, int idHigh, int prefixLen) {
        if (scale < 1) throw new IllegalArgumentException("--scale must be >= 1");
        if (prefixLen < 0) throw new IllegalArgumentException("--prefix-len must be >= 0");
        if (longFraction < 0 || longFraction > 1) throw new IllegalArgumentException("--long-fraction must be in [0, 1]");
        if (idLow < 0 || idHigh <= idLow) throw new IllegalArgumentException("--token-ids must be LOW:HIGH with 0 <= LOW < HIGH");
        this.kind = kind;
        this.inputLen = inputLen;
        this.outputLen = outputLen;
        this.scale = scale;
        this.longFraction = longFraction;
        this.tokenIds = tokenIds;
        this.idLow = idLow;
        this.idHigh = idHigh;
        Random prefixRandom = new Random(0x5EED_CAFEL);
        this.prefixIds = new int[tokenIds ? prefixLen : 0];
        for (int t = 0; t < prefixIds.length; t++) prefixIds[t] = idLow + prefixRandom.nextInt(idHigh - idLow);
        this.prefixText = tokenIds ? "" : words(prefixLen, prefixRandom);
    }

    private static String words(int count, Random random) {
        StringBuilder text = new StringBuilder(count * 6);
        for (int t = 0; t < count; t++) {
            if (t > 0) text.append(' ');
            text.append(WORDS[random.nextInt(WORDS.length)]);
        }
        return text.toString();
    }

    public List<BenchRequest> generate(int count, long seed) {
        Random random = new Random(seed);
        List<BenchRequest> out = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            switch (kind) {
                case RANDOM -> out.add(build(i, "random", inputLen.sample(random), outputLen.sample(random), random));
                case LONG_PROMPT -> out.add(build(i, "long", Math.max(1, LONG_PROMPT_INPUT / scale),
                        Math.max(1, LONG_PROMPT_OUTPUT / scale), random));
                case MIXED -> {
                    boolean document = random.nextDouble() < longFraction;
                    LengthRange in = (document ? DOCUMENT_INPUT : CHAT_INPUT).scaledDown(scale);
                    LengthRange outLen = (document ? DOCUMENT_OUTPUT : CHAT_OUTPUT).scaledDown(scale);
                    out.add(build(i, document ? "document" : "chat", in.sample(random), outLen.sample(random), random));
                }
            }
        }
        return out;
    }

    /** A request of the shared prefix (if any) followed by {@code promptLen} tokens of its own. */
    private BenchRequest build(int index, String part, int promptLen, int outputLen, Random random) {
        if (tokenIds) {
            int[] ids = java.util.Arrays.copyOf(prefixIds, prefixIds.length + promptLen);
            for (int t = prefixIds.length; t < ids.length; t++) ids[t] = idLow + random.nextInt(idHigh - idLow);
            return new BenchRequest(index, part, ids, null, ids.length, outputLen);
        }
        String own = words(promptLen, random);
        String text = prefixText.isEmpty() ? own : prefixText + " " + own;
        int words = prefixText.isEmpty() ? promptLen : prefixText.split(" ").length + promptLen;
        return new BenchRequest(index, part, null, text, words, outputLen);
    }
}
