package dev.podserve.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class TextHistogramTest {

    private static PrometheusText render(TextHistogram h) {
        StringBuilder out = new StringBuilder();
        h.appendTo(out);
        return PrometheusText.parse(out.toString());
    }

    @Test
    void bucketsAreCumulativeAndUpperBoundsInclusive() {
        TextHistogram h = new TextHistogram("vllm:iteration_tokens_total", "Tokens per step.", "model_name", "m",
                new double[] {1, 8, 16});
        for (double v : new double[] {0, 1, 2, 8, 9, 16, 17, 1000}) h.observe(v);
        PrometheusText t = render(h);
        assertThat(t.types).containsEntry("vllm:iteration_tokens_total", "histogram");
        String bucket = "vllm:iteration_tokens_total_bucket";
        assertThat(t.value(bucket, "model_name", "m", "le", "1.0")).isEqualTo(2);
        assertThat(t.value(bucket, "model_name", "m", "le", "8.0")).isEqualTo(4);
        assertThat(t.value(bucket, "model_name", "m", "le", "16.0")).isEqualTo(6);
        assertThat(t.value(bucket, "model_name", "m", "le", "+Inf")).isEqualTo(8);
        assertThat(t.value("vllm:iteration_tokens_total_count", "model_name", "m")).isEqualTo(8);
        assertThat(t.value("vllm:iteration_tokens_total_sum", "model_name", "m")).isEqualTo(1053);
    }

    @Test
    void emptyHistogramStillHasEverySeries() {
        PrometheusText t = render(new TextHistogram("x", "h", "model_name", "m", new double[] {1}));
        assertThat(t.value("x_bucket", "model_name", "m", "le", "1.0")).isZero();
        assertThat(t.value("x_bucket", "model_name", "m", "le", "+Inf")).isZero();
        assertThat(t.value("x_count", "model_name", "m")).isZero();
        assertThat(t.value("x_sum", "model_name", "m")).isZero();
    }

    @Test
    void labelValuesAreEscaped() {
        String name = "/models/a \"b\"\\c\nd";
        TextHistogram h = new TextHistogram("x", "h", "model_name", name, new double[] {1});
        h.observe(3);
        StringBuilder raw = new StringBuilder();
        h.appendTo(raw);
        assertThat(raw.toString().lines().filter(l -> !l.startsWith("#"))).hasSize(4);
        assertThat(PrometheusText.parse(raw.toString()).value("x_count", "model_name", name)).isEqualTo(1);
    }

    @Test
    void refusesBoundsOutOfOrder() {
        assertThatThrownBy(() -> new TextHistogram("x", "h", "l", "v", new double[] {2, 1}))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
