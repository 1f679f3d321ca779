package dev.podserve.config;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;

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
            assertThat(p.scheduler().policy()).isEqualTo("fcfs");
            assertThat(p.kvCache().blockSize()).isEqualTo(16);
            assertThat(p.attention().skinnyGemmRows()).isZero();
            assertThat(p.kvCache().memory()).isEqualTo(DataSize.ofMegabytes(256));
            assertThat(p.model().loadFormat()).isEqualTo("auto");
            assertThat(p.cpu().effectiveThreads()).isPositive();
            assertThat(p.resilience().maxConcurrentRequests()).isEqualTo(64);
            assertThat(p.resilience().maxWaitingRequests()).isEqualTo(256);
            assertThat(p.resilience().maxQueueTime()).isEqualTo(Duration.ofSeconds(60));
            assertThat(p.resilience().requestTimeout()).isEqualTo(Duration.ofMinutes(10));
            assertThat(p.resilience().rateLimit().requestsPerSecond()).isZero();
            assertThat(p.resilience().circuitBreaker().enabled()).isTrue();
            assertThat(p.resilience().shutdownGracePeriod()).isEqualTo(Duration.ofSeconds(25));
            assertThat(p.security().apiKeys()).isEmpty();
            assertThat(p.security().protectHealth()).isFalse();
            assertThat(p.security().logPrompts()).isFalse();
            assertThat(p.security().limits().maxBodySize()).isEqualTo(DataSize.ofMegabytes(10));
            assertThat(p.security().limits().maxStopStrings()).isEqualTo(4);
        });
    }

    @Test
    void resilienceAndSecurityKeysBindAndBadOnesNameTheirKey() {
        runner.withPropertyValues("podserve.resilience.max-concurrent-requests=3", "podserve.resilience.max-queue-time=250ms",
                "podserve.resilience.circuit-breaker.wait-duration-in-open-state=5s", "podserve.security.api-keys=a,b",
                "podserve.security.limits.max-body-size=1KB").run(ctx -> {
                    PodserveProperties p = ctx.getBean(PodserveProperties.class);
                    assertThat(p.resilience().maxConcurrentRequests()).isEqualTo(3);
                    assertThat(p.resilience().maxQueueTime()).isEqualTo(Duration.ofMillis(250));
                    assertThat(p.security().apiKeys()).containsExactly("a", "b");
                    assertThat(p.security().limits().maxBodySize()).isEqualTo(DataSize.ofKilobytes(1));
                });
        runner.withPropertyValues("podserve.resilience.max-concurrent-requests=0")
                .run(ctx -> assertThat(ctx).hasFailed().getFailure().rootCause()
                        .hasMessageContaining("resilience.maxConcurrentRequests").hasMessageContaining("at least 1"));
        runner.withPropertyValues("podserve.resilience.circuit-breaker.failure-rate-threshold=150")
                .run(ctx -> assertThat(ctx).hasFailed().getFailure().rootCause()
                        .hasMessageContaining("failureRateThreshold"));
        runner.withPropertyValues("podserve.resilience.request-timeout=-1s")
                .run(ctx -> assertThat(ctx).hasFailed().getFailure().rootCause().hasMessageContaining("must not be negative"));
        // "No limit" written as a huge duration overflows the nanosecond deadlines: refused at start-up, not at every request.
        for (String huge : new String[] {"podserve.resilience.request-timeout=1000000d", "podserve.resilience.max-queue-time=1000000d",
                "podserve.resilience.shutdown-grace-period=1000000d", "podserve.api.keep-alive=1000000d",
                "podserve.resilience.circuit-breaker.wait-duration-in-open-state=1000000d"}) {
            runner.withPropertyValues(huge).run(ctx -> assertThat(ctx).as(huge).hasFailed().getFailure().rootCause()
                    .hasMessageContaining("at most 36500 days"));
        }
        runner.withPropertyValues("podserve.resilience.request-timeout=36500d")
                .run(ctx -> assertThat(ctx).hasNotFailed());
        runner.withPropertyValues("podserve.security.limits.max-stop-strings=5")
                .run(ctx -> assertThat(ctx).hasFailed().getFailure().rootCause()
                        .hasMessageContaining("limits.maxStopStrings"));
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
        runner.withPropertyValues("podserve.scheduler.kv-admission=eager")
                .run(ctx -> assertThat(ctx).hasFailed().getFailure().rootCause()
                        .hasMessageContaining("scheduler.kvAdmission").hasMessageContaining("'headroom' or 'greedy'"));
        runner.withPropertyValues("podserve.scheduler.policy=lifo")
                .run(ctx -> assertThat(ctx).hasFailed().getFailure().rootCause()
                        .hasMessageContaining("scheduler.policy").hasMessageContaining("'fcfs' or 'priority'"));
        runner.withPropertyValues("podserve.attention.skinny-gemm-rows=17")
                .run(ctx -> assertThat(ctx).hasFailed().getFailure().rootCause()
                        .hasMessageContaining("attention.skinnyGemmRows").hasMessageContaining("between 0 and 16"));
        runner.withPropertyValues("podserve.scheduler.max-num-seqs=abc")
                .run(ctx -> assertThat(ctx).hasFailed().getFailure().rootCause().hasMessageContaining("abc"));
    }

    @Test
    void kvBlocksFollowMemoryOrTheExplicitCount() {
        var cfg = dev.podserve.model.ModelConfig.parse("{\"vocab_size\":10,\"hidden_size\":64,\"intermediate_size\":128,"
                + "\"num_hidden_layers\":2,\"num_attention_heads\":4,\"num_key_value_heads\":2}");
        // 2 (K,V) x 2 layers x 16 tokens x 32 floats x 4 bytes = 8 KiB a block.
        assertThat(ModelLoader.kvBlocks(new PodserveProperties.KvCache(16, DataSize.ofKilobytes(80), 0, true), cfg)).isEqualTo(10);
        assertThat(ModelLoader.kvBlocks(new PodserveProperties.KvCache(16, DataSize.ofKilobytes(80), 3, true), cfg)).isEqualTo(3);
    }
}
