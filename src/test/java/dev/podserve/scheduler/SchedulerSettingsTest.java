package dev.podserve.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SchedulerSettingsTest {

    @Test
    void acceptsSensibleSettings() {
        SchedulerSettings s = new SchedulerSettings(512, 64, 256, 4096);
        assertThat(s.maxChunkTokens()).isEqualTo(256);
        assertThat(new SchedulerSettings(512, 64, 0, 4096).maxChunkTokens()).isEqualTo(512);
        assertThat(new SchedulerSettings(512, 64, 1000, 4096).maxChunkTokens()).isEqualTo(512);
        assertThat(new SchedulerSettings(1, 1, 0, 1).maxNumBatchedTokens()).isEqualTo(1);
        assertThat(s.policy()).isEqualTo(SchedulingPolicy.FCFS);
    }

    @Test
    void rejectsEachBadValueWithAMessageNamingIt() {
        assertThatThrownBy(() -> new SchedulerSettings(0, 1, 0, 10)).hasMessageContaining("maxNumBatchedTokens must be at least 1");
        assertThatThrownBy(() -> new SchedulerSettings(8, 0, 0, 10)).hasMessageContaining("maxNumSeqs must be at least 1");
        assertThatThrownBy(() -> new SchedulerSettings(8, 9, 0, 10)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("maxNumBatchedTokens (8) must be at least maxNumSeqs (9)");
        assertThatThrownBy(() -> new SchedulerSettings(8, 4, -1, 10)).hasMessageContaining("longPrefillTokenThreshold");
        assertThatThrownBy(() -> new SchedulerSettings(8, 4, 0, 0)).hasMessageContaining("maxModelLen");
    }

    @Test
    void validatesAgainstTheKvCache() {
        SchedulerSettings s = new SchedulerSettings(16, 4, 0, 1000);
        assertThatCode(() -> SchedulerSettings.validateAgainstKvCache(s, 16, 1)).doesNotThrowAnyException();
        assertThatThrownBy(() -> SchedulerSettings.validateAgainstKvCache(s, 32, 100))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one KV block (32 tokens)");
        assertThatThrownBy(() -> SchedulerSettings.validateAgainstKvCache(s, 16, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 1 block");
        assertThatThrownBy(() -> SchedulerSettings.validateAgainstKvCache(s, 0, 10))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("block size");
    }
}
