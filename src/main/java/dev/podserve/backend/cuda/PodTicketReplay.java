package dev.podserve.backend.cuda;

import java.util.Arrays;

/**
 * {@code auto}'s SM policy for a fused launch, ported from attention_plan.h's choose_pod_policy
 * (the reasons and the measurements are there): a replay of the launch's per-SM tickets under
 * proportional and under fifty-fifty tickets, fifty-fifty taken where it ends sooner by
 * {@link #FIFTY_FIFTY_MIN_SPEEDUP}.
 *
 * <p>Why a replay and not a shape rule: proportional tickets spread the prefill CTAs over the
 * whole launch, which is right when they are short beside long decode CTAs (the kernel sweep's
 * grid) and wrong when more prefill CTAs than SMs each walk a long context beside many short decode
 * CTAs (a late chunk of 768 in serving), where the launch ends on a prefill CTA that started late.
 * Which of the two a batch is depends on the planned CTAs' lengths and counts together.
 */
final class PodTicketReplay {

    /** A prefill CTA alone on its SM, and beside another prefill CTA (keys x head dim per microsecond). */
    static final double LONE_PREFILL_KEY_DIMS_PER_US = 31.0 * 128;
    static final double PAIRED_PREFILL_KEY_DIMS_PER_US = 22.5 * 128;
    /** All running decode CTAs together: the card's K/V bandwidth (the H200's ~4.3 TB/s). */
    static final double CARD_DECODE_KEY_DIMS_PER_US = 8400.0 * 128;
    static final double FIFTY_FIFTY_MIN_SPEEDUP = 1.03;

    private PodTicketReplay() {
    }

    /**
     * {@link PodPlan#PROPORTIONAL} or {@link PodPlan#FIFTY_FIFTY} for a 2-CTA-per-SM launch of these
     * planned phases (prefill: rows packed rows per work item; decode: its final plan).
     */
    static int choosePolicy(int[] qoIndptr, int[] kvIndptr, int[] kvLastPageLen, int numPrefill, int numDecode, int pageSize,
                            int numQoHeads, int numKvHeads, int headDim, int numSms, AttentionPlan prefill, AttentionPlan decode,
                            int rows) {
        int prefillCtas = numPrefill > 0 ? prefill.gridX() * prefill.gridY() : 0;
        int decodeCtas = numDecode > 0 ? decode.gridX() * decode.gridY() : 0;
        // With no more prefill CTAs than SMs both policies start each in the first wave, one per SM;
        // with P <= D < 2P proportional's cycle is two tickets, fifty-fifty's. Neither needs a replay.
        if (numDecode == 0 || prefillCtas <= numSms || decodeCtas >= prefillCtas && decodeCtas < 2 * prefillCtas) {
            return PodPlan.PROPORTIONAL;
        }
        int group = numQoHeads / numKvHeads;
        int headChunks = (group + AttentionPlan.DECODE_HEADS - 1) / AttentionPlan.DECODE_HEADS;
        int[] items = prefill.workItems();
        int[] prefillUnits = new int[items.length / 2 * numKvHeads];
        int n = 0;
        for (int i = 0; i + 1 < items.length; i += 2) {
            int r = items[i];
            int q = qoIndptr[r + 1] - qoIndptr[r];
            int lastRow = Math.min(items[i + 1] + rows, q * group) - 1;
            int keys = AttentionPlan.kvLen(kvIndptr, kvLastPageLen, r, pageSize) - q + lastRow / group + 1;
            for (int u = 0; u < numKvHeads; u++) prefillUnits[n++] = keys;
        }
        int[] decodeUnits = new int[numDecode * numKvHeads * headChunks];
        n = 0;
        for (int r = numPrefill; r < numPrefill + numDecode; r++) {
            int keys = AttentionPlan.kvLen(kvIndptr, kvLastPageLen, r, pageSize);
            for (int u = 0; u < numKvHeads * headChunks; u++) decodeUnits[n++] = keys;
        }
        double[] pre = ctaWork(prefillUnits, prefill.kvChunkSize(), prefill.gridY(), headDim, PodSpanRule.PREFILL_CTA_US,
                PodSpanRule.PREFILL_CTA_KEY_DIMS_PER_US);
        double[] dec = ctaWork(decodeUnits, decode.kvChunkSize(), decode.gridY(), headDim, PodSpanRule.DECODE_CTA_US,
                PodSpanRule.DECODE_CTA_KEY_DIMS_PER_US);
        double proportional = spanUs(pre, dec, numSms, PodPlan.PROPORTIONAL);
        double fiftyFifty = spanUs(pre, dec, numSms, PodPlan.FIFTY_FIFTY);
        return fiftyFifty * FIFTY_FIFTY_MIN_SPEEDUP < proportional ? PodPlan.FIFTY_FIFTY : PodPlan.PROPORTIONAL;
    }

    /**
     * Each logical CTA's work in keys x head dim plus its fixed cost at its rate, in logical-id
     * order: id = y * gridX + x, x over the units (whose keys {@code unitKeys} holds), y the split.
     */
    static double[] ctaWork(int[] unitKeys, int chunk, int splits, int headDim, double fixedUs, double keyDimsPerUs) {
        double[] work = new double[unitKeys.length * splits];
        int n = 0;
        for (int s = 0; s < splits; s++) {
            for (int keys : unitKeys) {
                work[n++] = (double) Math.max(0, Math.min(chunk, keys - s * chunk)) * headDim + fixedUs * keyDimsPerUs;
            }
        }
        return work;
    }

    /** pod.cu's op_of_ticket: 0 prefill, 1 decode, before the fall-back to the other phase. */
    static int ticketOp(int policy, int ticket, int prefillCtas, int decodeCtas) {
        if (prefillCtas == 0) return 1;
        if (decodeCtas == 0) return 0;
        if (policy == PodPlan.FIFTY_FIFTY) return ticket & 1;
        if (prefillCtas <= decodeCtas) return ticket % (1 + decodeCtas / prefillCtas) == 0 ? 0 : 1;
        int cycle = prefillCtas / decodeCtas + 1;
        return ticket % cycle == cycle - 1 ? 1 : 0;
    }

    /**
     * The replayed launch's end in microseconds: two slots per SM, filled one per SM and then the
     * second; afterwards each freed slot takes the next CTA, which takes its SM's ticket and the
     * policy's phase (the other once that one's CTAs are all taken). A prefill CTA's rate follows
     * what shares its SM (nothing, a prefill or a decode CTA); the running decode CTAs share the
     * card's bandwidth, each at most at its own rate. Events in time order: prefill ends from a
     * queue whose stale entries (the CTA's rate changed since) are skipped, decode ends in the
     * order of the decode work done when each would end (all running decode CTAs stream alike).
     */
    static double spanUs(double[] pre, double[] dec, int numSms, int policy) {
        return new Replay(pre, dec, numSms, policy).run();
    }

    private static final class Replay {
        private final double[] pre;
        private final double[] dec;
        private final int policy;
        private final int total;
        private final int[] op;        // per slot (SM s >> 1): -1 idle, 0 prefill, 1 decode
        private final int[] version;   // per slot: bumped on every rate change and end, to skip stale prefill ends
        private final double[] left;   // per prefill slot: work left at `since`
        private final double[] rate;
        private final double[] since;
        private final int[] tickets;   // per SM
        private final int[] next = new int[2];
        // {time, slot | version << 20} and {decode work done, slot}: ties go to the lower second
        // field, as in attention_plan.h's priority queues of pairs, so both replays pick alike.
        // Every key is unique (a version is pushed once; a slot has one decode end at a time), so
        // any min-heap pops them in the same order.
        private final Events prefillEnds;
        private final Events decodeEnds;
        private int launched;
        private int decoding;
        private double t;
        private double done;           // decode work each running decode CTA has streamed since the start

        Replay(double[] pre, double[] dec, int numSms, int policy) {
            this.pre = pre;
            this.dec = dec;
            this.policy = policy;
            this.total = pre.length + dec.length;
            int slots = 2 * numSms;
            op = new int[slots];
            Arrays.fill(op, -1);
            version = new int[slots];
            left = new double[slots];
            rate = new double[slots];
            since = new double[slots];
            tickets = new int[numSms];
            prefillEnds = new Events(slots);
            decodeEnds = new Events(slots);
        }

        double run() {
            for (int j = 0; j < 2; j++) {
                for (int sm = 0; sm < tickets.length && launched < total; sm++) {
                    start(2 * sm + j);
                    if (op[2 * sm + (j ^ 1)] == 0) rerate(2 * sm + (j ^ 1));
                }
            }
            while (true) {
                while (prefillEnds.size > 0 && stale(prefillEnds.topKey())) prefillEnds.pop();
                double decodeRate = decoding > 0
                        ? Math.min(PodSpanRule.DECODE_CTA_KEY_DIMS_PER_US, CARD_DECODE_KEY_DIMS_PER_US / decoding) : 0;
                double tp = prefillEnds.size == 0 ? Double.POSITIVE_INFINITY : prefillEnds.topTime();
                double td = decoding > 0 ? t + (decodeEnds.topTime() - done) / decodeRate : Double.POSITIVE_INFINITY;
                if (tp == Double.POSITIVE_INFINITY && td == Double.POSITIVE_INFINITY) return t;
                double nt = Math.min(tp, td);
                done += decodeRate * (nt - t);
                t = nt;
                int s = (int) ((tp <= td ? prefillEnds.pop() : decodeEnds.pop()) & 0xFFFFF);
                finish(s);
            }
        }

        private void start(int s) {
            int o = ticketOp(policy, tickets[s >> 1]++, pre.length, dec.length);
            if (next[o] >= (o == 0 ? pre.length : dec.length)) o ^= 1;
            int id = next[o]++;
            launched++;
            op[s] = o;
            if (o == 0) {
                left[s] = pre[id];
                rate[s] = 0;
                since[s] = t;
                rerate(s);
            } else {
                decoding++;
                decodeEnds.push(done + dec[id], s);
            }
        }

        /**
         * A prefill CTA is re-rated only when its SM-mate's phase changes: a decode CTA followed by
         * another on the same slot (most events of a launch) leaves it as it was.
         */
        private void finish(int s) {
            int was = op[s];
            if (was == 1) decoding--;
            op[s] = -1;
            version[s]++;
            if (launched < total) start(s);
            if (op[s ^ 1] == 0 && op[s] != was) rerate(s ^ 1);
        }

        /** A prefill CTA's rate follows its SM-mate. */
        private void rerate(int s) {
            left[s] -= rate[s] * (t - since[s]);
            since[s] = t;
            int mate = op[s ^ 1];
            rate[s] = mate < 0 ? LONE_PREFILL_KEY_DIMS_PER_US
                    : mate == 0 ? PAIRED_PREFILL_KEY_DIMS_PER_US : PodSpanRule.PREFILL_CTA_KEY_DIMS_PER_US;
            prefillEnds.push(t + left[s] / rate[s], s | ((long) ++version[s] << 20));
        }

        private boolean stale(long key) {
            return (key >> 20) != version[(int) (key & 0xFFFFF)];
        }
    }

    /**
     * A binary min-heap of (time, key) pairs ordered as std::pair's operator&lt; orders them: by time,
     * then key. Primitive arrays: the replay runs on the scheduler's thread at every fused step,
     * and a PriorityQueue of boxed entries cost several times as much.
     */
    static final class Events {
        private double[] time;
        private long[] key;
        int size;

        Events(int capacity) {
            time = new double[Math.max(capacity, 4)];
            key = new long[time.length];
        }

        double topTime() {
            return time[0];
        }

        long topKey() {
            return key[0];
        }

        void push(double t, long k) {
            if (size == time.length) {
                time = Arrays.copyOf(time, 2 * size);
                key = Arrays.copyOf(key, 2 * size);
            }
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >> 1;
                if (!before(t, k, time[parent], key[parent])) break;
                time[i] = time[parent];
                key[i] = key[parent];
                i = parent;
            }
            time[i] = t;
            key[i] = k;
        }

        /** Removes the first pair and returns its key. */
        long pop() {
            long first = key[0];
            int n = --size;
            double t = time[n];
            long k = key[n];
            int i = 0;
            while (true) {
                int c = 2 * i + 1;
                if (c >= n) break;
                if (c + 1 < n && before(time[c + 1], key[c + 1], time[c], key[c])) c++;
                if (!before(time[c], key[c], t, k)) break;
                time[i] = time[c];
                key[i] = key[c];
                i = c;
            }
            if (n > 0) {
                time[i] = t;
                key[i] = k;
            }
            return first;
        }

        private static boolean before(double ta, long ka, double tb, long kb) {
            return ta < tb || !(tb < ta) && ka < kb;
        }
    }
}
