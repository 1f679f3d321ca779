package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.springframework.util.unit.DataSize;

import dev.podserve.config.PodserveProperties;

/** The max_tokens limit: a larger one asked for is refused; the default when none is asked for is lowered to it. */
class RequestLimitsTest {

    private static RequestLimits limits(int maxTokens) {
        PodserveProperties.Limits l = new PodserveProperties.Limits(DataSize.ofMegabytes(1), 0, maxTokens, 4, 4, 4, 10);
        PodserveProperties.Security s = new PodserveProperties.Security(null, null, false, false, false, l, true);
        return new RequestLimits(new PodserveProperties(null, null, null, null, null, null, s, null, "cpu"));
    }

    @Test
    void maxTokens() {
        assertThat(limits(100).maxTokens(null, 4000)).as("chat default, lowered").isEqualTo(100);
        assertThat(limits(100).maxTokens(null, 16)).isEqualTo(16);
        assertThat(limits(100).maxTokens(100, 4000)).isEqualTo(100);
        assertThatThrownBy(() -> limits(100).maxTokens(101, 4000)).isInstanceOfSatisfying(ApiException.class,
                e -> assertThat(e.param()).isEqualTo("max_tokens"));
        assertThat(limits(0).maxTokens(null, 4000)).as("no limit").isEqualTo(4000);
        assertThat(limits(0).maxTokens(1_000_000, 4000)).as("the context check is the engine's").isEqualTo(1_000_000);
    }
}
