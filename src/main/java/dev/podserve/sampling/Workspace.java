package dev.podserve.sampling;

/**
 * Scratch arrays for one sampling call, reused across calls on the same thread: at a 128K
 * vocabulary they are megabytes, and allocating them per request per step would feed the garbage
 * collector for nothing.
 */
final class Workspace {

    private static final ThreadLocal<Workspace> PER_THREAD = ThreadLocal.withInitial(Workspace::new);

    /** The caller's logits after bias, masks and penalties. */
    float[] logits = new float[0];
    /** Unnormalised probability of each token, indexed by token id. */
    double[] weights = new double[0];
    /** Rank keys for top-k selection and the top-p heap. */
    long[] keys = new long[0];
    /** The kept tokens, best first, when a truncation had to rank them. */
    int[] ranked = new int[0];

    static Workspace forVocabulary(int n) {
        Workspace ws = PER_THREAD.get();
        if (ws.logits.length < n) {
            ws.logits = new float[n];
            ws.weights = new double[n];
            ws.keys = new long[n];
            ws.ranked = new int[n];
        }
        return ws;
    }
}
