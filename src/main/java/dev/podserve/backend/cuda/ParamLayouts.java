package dev.podserve.backend.cuda;

import java.util.List;

/**
 * The Java mirror of cuda-kernels/include/params.h and attention/attention_params.h: field names
 * and order exactly as the headers declare them. StructLayoutTest compiles the headers with gcc
 * and compares every offset and size, so a header change that is not mirrored here fails a test.
 */
public final class ParamLayouts {

    public static final StructLayout EMBEDDING = StructLayout.struct("PsEmbeddingParams")
            .ptr("table", "tokenIds", "out").i64("outStride").i32("numTokens", "hidden", "vocab").build();

    public static final StructLayout ADD_RMSNORM = StructLayout.struct("PsAddRmsNormParams")
            .ptr("x", "residual", "weight", "out").i64("xStride", "residualStride", "outStride")
            .i32("numTokens", "hidden").f32("eps").build();

    public static final StructLayout ROPE = StructLayout.struct("PsRopeParams")
            .ptr("q", "k", "cos", "sin", "positions").i64("qStride", "kStride")
            .i32("numTokens", "numHeads", "numKvHeads", "headDim", "rotaryDim", "maxPositions").build();

    public static final StructLayout SILU_MUL = StructLayout.struct("PsSiluMulParams")
            .ptr("gateUp", "out").i64("gateUpStride", "outStride").i32("numTokens", "inter").build();

    public static final StructLayout KV_APPEND = StructLayout.struct("PsKvAppendParams")
            .ptr("k", "v", "kCache", "vCache", "qoIndptr", "kvIndptr", "kvPageIndices", "positions")
            .i64("kStride", "vStride")
            .i32("numTokens", "numRequests", "numKvHeads", "headDim", "pageSize", "numPages").build();

    public static final StructLayout ROPE_APPEND = StructLayout.struct("PsRopeAppendParams").embed("rope", ROPE)
            .embed("append", KV_APPEND).build();

    public static final StructLayout GATHER_LAST_ROWS = StructLayout.struct("PsGatherLastRowsParams")
            .ptr("src", "dst", "qoIndptr", "sampleRequests").i64("srcStride", "dstStride")
            .i32("numSampled", "hidden", "numRequests").build();

    public static final StructLayout ARGMAX = StructLayout.struct("PsArgmaxParams")
            .ptr("logits", "out").i64("logitsStride").i32("numRows", "vocab").build();

    public static final StructLayout TOKEN_MASK = StructLayout.struct("PsTokenMaskParams")
            .ptr("logits", "masks", "rows").i64("logitsStride").i32("numMasked", "maskWords", "vocab", "reserved").build();

    /** Most alternatives ps_score_rows lists per row (PS_SCORE_MAX_TOP), and the 32-bit words of one scored row. */
    public static final int SCORE_MAX_TOP = 20;
    public static final int SCORE_WORDS = 2 + 2 * SCORE_MAX_TOP;

    public static final StructLayout SCORE_ROWS = StructLayout.struct("PsScoreRowsParams")
            .ptr("logits", "targets", "out").i64("logitsStride").i32("numRows", "vocab", "top", "reserved").build();

    /** One row of ps_draw's draws array (uploaded per step, not passed by value). */
    public static final int DRAW_MAX_BANNED = 8;
    public static final StructLayout DRAW_ROW = StructLayout.struct("PsDrawRow")
            .f64("inverseTemperature", "minP", "topP", "uniform").i32("row", "numBanned", "topK")
            .i32Array("banned", DRAW_MAX_BANNED).build();

    public static final StructLayout DRAW = StructLayout.struct("PsDrawParams")
            .ptr("logits", "draws", "out").i64("logitsStride").i32("numDraws", "vocab").build();

    public static final StructLayout DUMMY_FILL = StructLayout.struct("PsDummyFillParams")
            .ptr("out").i64("count", "key").f32("center", "halfWidth").build();

    public static final StructLayout SKINNY_GEMM = StructLayout.struct("PsSkinnyGemmParams")
            .ptr("x", "w", "y").i64("xStride", "yStride").i32("numTokens", "n", "k", "flags").build();

    public static final StructLayout ATTENTION = StructLayout.struct("PsAttentionParams")
            .ptr("q", "kCache", "vCache", "out", "qoIndptr", "kvIndptr", "kvPageIndices", "kvLastPageLen",
                    "workItems", "partialO", "partialLse", "splitPlan", "kvTensorMaps", "mergeCounters")
            .i64("qStride", "outStride")
            .i32("requestBegin", "numRequests", "numWorkItems", "numQoHeads", "numKvHeads", "headDim", "pageSize",
                    "kvChunkSize", "maxSplits")
            .f32("smScale").i32("window").build();

    /** attention/pod_params.h: the two phases' structs, then the scheduling fields of the fused kernel. */
    public static final StructLayout POD = StructLayout.struct("PsPodParams").embed("prefill", ATTENTION).embed("decode", ATTENTION)
            .ptr("counters", "ctaLog")
            .i32("prefillCtas", "decodeCtas", "prefillGridX", "decodeGridX", "policy", "numSms", "staticPrefillSms", "reserved")
            .build();

    public static final List<StructLayout> ALL =
            List.of(EMBEDDING, ADD_RMSNORM, ROPE, SILU_MUL, KV_APPEND, ROPE_APPEND, GATHER_LAST_ROWS, ARGMAX, TOKEN_MASK, SCORE_ROWS, DRAW_ROW, DRAW,
                    DUMMY_FILL, SKINNY_GEMM, ATTENTION,
                    POD);

    private ParamLayouts() {
    }
}
