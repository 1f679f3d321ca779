package dev.podserve.metrics;

/**
 * A classic Prometheus histogram written straight to the 0.0.4 text format. It exists for vLLM's
 * {@code vllm:iteration_tokens_total}: the Prometheus Java client refuses any metric name ending in
 * {@code _total} unless it is a counter, so that histogram cannot be a Micrometer meter and keep
 * its name. One thread observes; scrapes read a consistent copy under the same lock.
 */
final class TextHistogram {

    private final String name;
    private final String help;
    private final String labels;
    private final double[] bounds;
    /** Observations per bucket, not cumulative; the last slot is above every bound. */
    private final long[] counts;
    private double sum;

    /**
     * @param labelName  the one label every series carries
     * @param labelValue its value, escaped here
     * @param bounds     upper bounds, ascending
     */
    TextHistogram(String name, String help, String labelName, String labelValue, double[] bounds) {
        for (int i = 1; i < bounds.length; i++) {
            if (!(bounds[i] > bounds[i - 1])) throw new IllegalArgumentException("bucket bounds must ascend");
        }
        this.name = name;
        this.help = help;
        this.labels = labelName + "=\"" + escapeLabelValue(labelValue) + "\"";
        this.bounds = bounds.clone();
        this.counts = new long[bounds.length + 1];
    }

    synchronized void observe(double value) {
        int bucket = 0;
        while (bucket < bounds.length && value > bounds[bucket]) bucket++;
        counts[bucket]++;
        sum += value;
    }

    void appendTo(StringBuilder out) {
        long[] snapshot;
        double total;
        synchronized (this) {
            snapshot = counts.clone();
            total = sum;
        }
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" histogram\n");
        long cumulative = 0;
        for (int i = 0; i <= bounds.length; i++) {
            cumulative += snapshot[i];
            String le = i < bounds.length ? Double.toString(bounds[i]) : "+Inf";
            out.append(name).append("_bucket{").append(labels).append(",le=\"").append(le).append("\"} ")
                    .append(cumulative).append('\n');
        }
        out.append(name).append("_count{").append(labels).append("} ").append(cumulative).append('\n');
        out.append(name).append("_sum{").append(labels).append("} ").append(total).append('\n');
    }

    static String escapeLabelValue(String value) {
        return value.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }
}
