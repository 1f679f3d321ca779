package dev.podserve.config;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.boot.validation.autoconfigure.ValidationAutoConfiguration;
import org.springframework.context.annotation.Configuration;
import org.springframework.util.unit.DataSize;

/** Start-up validation of {@code podserve.*}: bad values stop the application with a message naming the key. */
class PodservePropertiesTest {

    @Configuration
    @EnableConfigurationProperties(PodserveProperties.class)
    static class Props {
    }

    private final ApplicationContextRunner runner = new ApplicationContextRunner()
            .withConfiguration(AutoConfigurations.of(ValidationAutoConfiguration.class))
            .withUserConfiguration(Props.class);

    @Test
    void defaultsBindAndAreValid() {
        runner.run(ctx -> {
            assertThat(ctx).hasNotFailed();
            PodserveProperties p = ctx.getBean(PodserveProperties.class);
            assertThat(p.scheduler().maxNumBatchedTokens()).isEqualTo(512);
            assertThat(p.kvCache().blockSize()).isEqualTo(16);
            assertThat(p.kvCache().memory()).isEqualTo(DataSize.ofMegabytes(256));
            assertThat(p.model().loadFormat()).isEqualTo("auto");
            assertThat(p.cpu().effectiveThreads()).isPositive();
        });
    }

    @Test
    void budgetBelowMaxNumSeqsIsRefused() {
        runner.withPropertyValues("podserve.scheduler.max-num-batched-tokens=32", "podserve.scheduler.max-num-seqs=64")
                .run(ctx -> assertThat(ctx).hasFailed().getFailure().rootCause()
                        .hasMessageContaining("max-num-batched-tokens must be at least max-num-seqs"));
    }

    @Test
    void budgetBelowOneBlockIsRefused() {
        runner.withPropertyValues("podserve.scheduler.max-num-batched-tokens=8", "podserve.scheduler.max-num-seqs=8",
                        "podserve.kv-cache.block-size=16")
                .run(ctx -> assertThat(ctx).hasFailed().getFailure().rootCause()
                        .hasMessageContaining("cover at least one KV block"));
    }

    @Test
    void outOfRangeValuesNameTheirKey() {
        runner.withPropertyValues("podserve.kv-cache.block-size=0")
                .run(ctx -> assertThat(ctx).hasFailed().getFailure().rootCause()
                        .hasMessageContaining("kvCache.blockSize").hasMessageContaining("must be at least 1"));
        runner.withPropertyValues("podserve.model.load-format=safetensors")
                .run(ctx -> assertThat(ctx).hasFailed().getFailure().rootCause()
                        .hasMessageContaining("model.loadFormat").hasMessageContaining("'auto' or 'dummy'"));
        runner.withPropertyValues("podserve.scheduler.max-num-seqs=abc")
                .run(ctx -> assertThat(ctx).hasFailed().getFailure().rootCause().hasMessageContaining("abc"));
    }

    @Test
    void kvBlocksFollowMemoryOrTheExplicitCount() {
        var cfg = dev.podserve.model.ModelConfig.parse("{\"vocab_size\":10,\"hidden_size\":64,\"intermediate_size\":128,"
                + "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"num_key_value_heads\":2}");
        // 2 (K,V) x 2 layers x 16 tokens x 32 floats x 4 bytes = 8 KiB a block.
        assertThat(ModelLoader.kvBlocks(new PodserveProperties.KvCache(16, DataSize.ofKilobytes(80), 0), cfg)).isEqualTo(10);
        assertThat(ModelLoader.kvBlocks(new PodserveProperties.KvCache(16, DataSize.ofKilobytes(80), 3), cfg)).isEqualTo(3);
    }
}
