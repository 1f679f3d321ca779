package dev.podserve.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/**
 * config.json as the Hub serves it, for each architecture and both transformers layouts. The files
 * below follow the published configs of the named checkpoints (fields podserve does not read left
 * in, as they are there).
 */
class ModelConfigParseTest {

    static final String LLAMA_31_8B_INSTRUCT = """
            {
              "architectures": ["LlamaForCausalLM"],
              "attention_bias": false,
              "attention_dropout": 0.0,
              "bos_token_id": 128000,
              "eos_token_id": [128001, 128008, 128009],
              "hidden_act": "silu",
              "hidden_size": 4096,
              "initializer_range": 0.02,
              "intermediate_size": 14336,
              "max_position_embeddings": 131072,
              "mlp_bias": false,
              "model_type": "llama",
              "num_attention_heads": 32,
              "num_hidden_layers": 32,
              "num_key_value_heads": 8,
              "pretraining_tp": 1,
              "rms_norm_eps": 1e-05,
              "rope_scaling": {
                "factor": 8.0,
                "low_freq_factor": 1.0,
                "high_freq_factor": 4.0,
                "original_max_position_embeddings": 8192,
                "rope_type": "llama3"
              },
              "rope_theta": 500000.0,
              "tie_word_embeddings": false,
              "torch_dtype": "bfloat16",
              "transformers_version": "4.43.0.dev0",
              "use_cache": true,
              "vocab_size": 128256
            }""";

    /** Llama-3.2-1B as transformers 5.x saves it: rope_theta and the scaling inside rope_parameters. */
    static final String LLAMA_32_1B_V5 = """
            {
              "architectures": ["LlamaForCausalLM"],
              "attention_bias": false,
              "bos_token_id": 128000,
              "dtype": "bfloat16",
              "eos_token_id": 128001,
              "head_dim": 64,
              "hidden_act": "silu",
              "hidden_size": 2048,
              "intermediate_size": 8192,
              "max_position_embeddings": 131072,
              "mlp_bias": false,
              "model_type": "llama",
              "num_attention_heads": 32,
              "num_hidden_layers": 16,
              "num_key_value_heads": 8,
              "rms_norm_eps": 1e-05,
              "rope_parameters": {
                "factor": 32.0,
                "high_freq_factor": 4.0,
                "low_freq_factor": 1.0,
                "original_max_position_embeddings": 8192,
                "rope_theta": 500000.0,
                "rope_type": "llama3"
              },
              "tie_word_embeddings": true,
              "transformers_version": "5.0.0",
              "vocab_size": 128256
            }""";

    /** Written by transformers 4.31: no rope_theta at all (the default 10000 applies). */
    static final String LLAMA_2_7B = """
            {
              "architectures": ["LlamaForCausalLM"],
              "bos_token_id": 1,
              "eos_token_id": 2,
              "hidden_act": "silu",
              "hidden_size": 4096,
              "initializer_range": 0.02,
              "intermediate_size": 11008,
              "max_position_embeddings": 4096,
              "model_type": "llama",
              "num_attention_heads": 32,
              "num_hidden_layers": 32,
              "num_key_value_heads": 32,
              "pretraining_tp": 1,
              "rms_norm_eps": 1e-05,
              "rope_scaling": null,
              "tie_word_embeddings": false,
              "torch_dtype": "float16",
              "transformers_version": "4.31.0.dev0",
              "use_cache": true,
              "vocab_size": 32000
            }""";

    static final String TINYLLAMA_CHAT = """
            {
              "architectures": ["LlamaForCausalLM"],
              "attention_bias": false,
              "bos_token_id": 1,
              "eos_token_id": 2,
              "hidden_act": "silu",
              "hidden_size": 2048,
              "initializer_range": 0.02,
              "intermediate_size": 5632,
              "max_position_embeddings": 2048,
              "model_type": "llama",
              "num_attention_heads": 32,
              "num_hidden_layers": 22,
              "num_key_value_heads": 4,
              "pretraining_tp": 1,
              "rms_norm_eps": 1e-05,
              "rope_scaling": null,
              "rope_theta": 10000.0,
              "tie_word_embeddings": false,
              "torch_dtype": "bfloat16",
              "transformers_version": "4.35.0",
              "use_cache": true,
              "vocab_size": 32000
            }""";

    static final String MISTRAL_7B_V01 = """
            {
              "architectures": ["MistralForCausalLM"],
              "bos_token_id": 1,
              "eos_token_id": 2,
              "hidden_act": "silu",
              "hidden_size": 4096,
              "initializer_range": 0.02,
              "intermediate_size": 14336,
              "max_position_embeddings": 32768,
              "model_type": "mistral",
              "num_attention_heads": 32,
              "num_hidden_layers": 32,
              "num_key_value_heads": 8,
              "rms_norm_eps": 1e-05,
              "rope_theta": 10000.0,
              "sliding_window": 4096,
              "tie_word_embeddings": false,
              "torch_dtype": "bfloat16",
              "transformers_version": "4.34.0.dev0",
              "use_cache": true,
              "vocab_size": 32000
            }""";

    static final String QWEN2_05B = """
            {
              "architectures": ["Qwen2ForCausalLM"],
              "attention_dropout": 0.0,
              "bos_token_id": 151643,
              "eos_token_id": 151643,
              "hidden_act": "silu",
              "hidden_size": 896,
              "initializer_range": 0.02,
              "intermediate_size": 4864,
              "max_position_embeddings": 131072,
              "max_window_layers": 24,
              "model_type": "qwen2",
              "num_attention_heads": 14,
              "num_hidden_layers": 24,
              "num_key_value_heads": 2,
              "rms_norm_eps": 1e-06,
              "rope_theta": 1000000.0,
              "sliding_window": 131072,
              "tie_word_embeddings": true,
              "torch_dtype": "bfloat16",
              "transformers_version": "4.40.1",
              "use_cache": true,
              "use_sliding_window": false,
              "vocab_size": 151936
            }""";

    /** Qwen2.5-7B-Instruct with the YaRN block Qwen's documentation adds for 128K contexts (legacy "type" key). */
    static final String QWEN25_7B_YARN = """
            {
              "architectures": ["Qwen2ForCausalLM"],
              "bos_token_id": 151643,
              "eos_token_id": 151645,
              "hidden_act": "silu",
              "hidden_size": 3584,
              "intermediate_size": 18944,
              "max_position_embeddings": 32768,
              "max_window_layers": 28,
              "model_type": "qwen2",
              "num_attention_heads": 28,
              "num_hidden_layers": 28,
              "num_key_value_heads": 4,
              "rms_norm_eps": 1e-06,
              "rope_theta": 1000000.0,
              "rope_scaling": {"factor": 4.0, "original_max_position_embeddings": 32768, "type": "yarn"},
              "sliding_window": 131072,
              "tie_word_embeddings": false,
              "use_sliding_window": false,
              "vocab_size": 152064
            }""";

    /** A small shape to vary one field at a time. */
    static String small(String extra) {
        return """
                {"architectures": ["LlamaForCausalLM"], "vocab_size": 100, "hidden_size": 64, "intermediate_size": 128,
                 "num_hidden_layers": 4, "num_attention_heads": 4, "num_key_value_heads": 2,
                 "max_position_embeddings": 1024%s}""".formatted(extra.isEmpty() ? "" : ", " + extra);
    }

    static String qwen(String extra) {
        return small("\"model_type\": \"qwen2\", " + extra).replace("LlamaForCausalLM", "Qwen2ForCausalLM");
    }

    @Test
    void llama31InTheTransformers4Layout() {
        ModelConfig c = ModelConfig.parse(LLAMA_31_8B_INSTRUCT);
        assertThat(c.architecture()).isEqualTo("LlamaForCausalLM");
        assertThat(c.headDim()).isEqualTo(128);
        assertThat(c.groupSize()).isEqualTo(4);
        assertThat(c.rmsNormEps()).isEqualTo(1e-5f);
        assertThat(c.ropeTheta()).isEqualTo(500000.0);
        assertThat(c.ropeScaling()).isEqualTo(RopeScaling.llama3(8, 1, 4, 8192));
        assertThat(c.maxPositionEmbeddings()).isEqualTo(131072);
        assertThat(c.maxContextLength()).isEqualTo(131072);
        assertThat(c.bosTokenId()).isEqualTo(128000);
        assertThat(c.eosTokenIds()).containsExactly(128001, 128008, 128009);
        assertThat(c.qkvBias()).isFalse();
        assertThat(c.slidingWindow()).isZero();
        assertThat(c.windowOf(31)).isZero();
        assertThat(c.parameterCount()).isBetween(8_000_000_000L, 8_100_000_000L);
    }

    @Test
    void llama32InTheTransformers5LayoutMatchesTheNamedShape() {
        ModelConfig c = ModelConfig.parse(LLAMA_32_1B_V5);
        ModelConfig shape = ModelShapes.llama32OneB();
        assertThat(c.ropeScaling()).isEqualTo(RopeScaling.llama3(32, 1, 4, 8192)).isEqualTo(shape.ropeScaling());
        assertThat(c.ropeTheta()).isEqualTo(500000.0);
        assertThat(c.tieWordEmbeddings()).isTrue();
        assertThat(c.eosTokenIds()).containsExactly(128001);
        assertThat(c.parameterCount()).isEqualTo(shape.parameterCount());
        assertThat(c.toString()).isEqualTo(shape.toString());
    }

    @Test
    void llama2AndTinyLlamaUsePlainRope() {
        ModelConfig llama2 = ModelConfig.parse(LLAMA_2_7B);
        assertThat(llama2.ropeTheta()).isEqualTo(10000.0);
        assertThat(llama2.ropeScaling()).isEqualTo(RopeScaling.none());
        assertThat(llama2.numKvHeads()).isEqualTo(32);
        assertThat(llama2.maxContextLength()).isEqualTo(4096);
        ModelConfig tiny = ModelConfig.parse(TINYLLAMA_CHAT);
        assertThat(tiny.numLayers()).isEqualTo(22);
        assertThat(tiny.groupSize()).isEqualTo(8);
        assertThat(tiny.headDim()).isEqualTo(64);
        assertThat(tiny.ropeScaling().type()).isEqualTo(RopeScaling.Type.DEFAULT);
        assertThat(tiny.parameterCount()).isBetween(1_090_000_000L, 1_110_000_000L);
    }

    @Test
    void mistralSlidesInEveryLayerAndNullMeansNoWindow() {
        ModelConfig c = ModelConfig.parse(MISTRAL_7B_V01);
        assertThat(c.architecture()).isEqualTo("MistralForCausalLM");
        assertThat(c.slidingWindow()).isEqualTo(4096);
        for (int l = 0; l < c.numLayers(); l++) assertThat(c.windowOf(l)).isEqualTo(4096);
        assertThat(c.qkvBias()).isFalse();
        ModelConfig v02 = ModelConfig.parse(MISTRAL_7B_V01.replace("\"sliding_window\": 4096", "\"sliding_window\": null"));
        assertThat(v02.slidingWindow()).isZero();
        assertThat(v02.windowOf(0)).isZero();
        // Absent altogether: MistralConfig's default window of 4096 applies.
        ModelConfig absent = ModelConfig.parse(MISTRAL_7B_V01.replace("\"sliding_window\": 4096,", ""));
        assertThat(absent.slidingWindow()).isEqualTo(4096);
    }

    @Test
    void qwen2HasBiasesAndNoWindowUnlessUseSlidingWindow() {
        ModelConfig c = ModelConfig.parse(QWEN2_05B);
        assertThat(c.architecture()).isEqualTo("Qwen2ForCausalLM");
        assertThat(c.qkvBias()).isTrue();
        assertThat(c.headDim()).isEqualTo(64);
        assertThat(c.slidingWindow()).isZero();
        assertThat(c.tieWordEmbeddings()).isTrue();
        assertThat(c.rmsNormEps()).isEqualTo(1e-6f);
        assertThat(c.parameterCount()).isBetween(490_000_000L, 500_000_000L);
        assertThat(c.parameterCount() - c.withQkvBias(false).parameterCount()).isEqualTo(24L * (896 + 2 * 128));
    }

    @Test
    void qwen2SlidesFromMaxWindowLayersOnOrWhereLayerTypesSay() {
        ModelConfig byCount = ModelConfig.parse(qwen("\"use_sliding_window\": true, \"sliding_window\": 32, \"max_window_layers\": 2"));
        assertThat(byCount.slidingLayers()).containsExactly(false, false, true, true);
        assertThat(byCount.windowOf(1)).isZero();
        assertThat(byCount.windowOf(2)).isEqualTo(32);
        ModelConfig byTypes = ModelConfig.parse(qwen("\"use_sliding_window\": true, \"sliding_window\": 32, \"max_window_layers\": 2,"
                + " \"layer_types\": [\"sliding_attention\", \"full_attention\", \"sliding_attention\", \"full_attention\"]"));
        assertThat(byTypes.slidingLayers()).containsExactly(true, false, true, false);
        // transformers drops the window when use_sliding_window is false, whatever layer_types says.
        ModelConfig off = ModelConfig.parse(qwen("\"sliding_window\": 32, \"layer_types\": [\"sliding_attention\","
                + " \"sliding_attention\", \"sliding_attention\", \"sliding_attention\"]"));
        assertThat(off.slidingWindow()).isZero();
        assertThat(off.slidingLayers()).containsOnly(false);
        ModelConfig nullWindow = ModelConfig.parse(qwen("\"use_sliding_window\": true, \"sliding_window\": null"));
        assertThat(nullWindow.slidingWindow()).isZero();
    }

    @Test
    void yarnResolvesTransformersDefaults() {
        ModelConfig c = ModelConfig.parse(QWEN25_7B_YARN);
        RopeScaling s = c.ropeScaling();
        assertThat(s.type()).isEqualTo(RopeScaling.Type.YARN);
        assertThat(s.factor()).isEqualTo(4.0);
        assertThat(s.originalMaxPositionEmbeddings()).isEqualTo(32768);
        assertThat(s.betaFast()).isEqualTo(32.0);
        assertThat(s.betaSlow()).isEqualTo(1.0);
        assertThat(s.truncate()).isTrue();
        assertThat(s.attentionFactor()).isCloseTo(0.1 * Math.log(4) + 1, within(1e-12));
        assertThat(c.maxContextLength()).isEqualTo(131072);

        RopeScaling explicit = ModelConfig.parse(small("\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 2.0,"
                + " \"attention_factor\": 1.25, \"beta_fast\": 16, \"beta_slow\": 2, \"truncate\": false}")).ropeScaling();
        assertThat(explicit).isEqualTo(RopeScaling.yarn(2, 1024, 16, 2, 1.25, false));

        // DeepSeek-style mscale pair: the factor's two corrections cancel when they are equal.
        RopeScaling mscale = ModelConfig.parse(small("\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 40,"
                + " \"original_max_position_embeddings\": 256, \"mscale\": 0.707, \"mscale_all_dim\": 0.707}")).ropeScaling();
        assertThat(mscale.attentionFactor()).isEqualTo(1.0);
        RopeScaling half = ModelConfig.parse(small("\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 40,"
                + " \"mscale\": 1.0, \"mscale_all_dim\": 0.5}")).ropeScaling();
        assertThat(half.attentionFactor()).isCloseTo((0.1 * Math.log(40) + 1) / (0.05 * Math.log(40) + 1), within(1e-12));

        // No factor: the ratio of the context lengths, as transformers derives it.
        RopeScaling implicit = ModelConfig.parse(small("\"rope_parameters\": {\"rope_type\": \"yarn\", \"rope_theta\": 10000.0,"
                + " \"original_max_position_embeddings\": 256}")).ropeScaling();
        assertThat(implicit.factor()).isEqualTo(4.0);
    }

    @Test
    void linearAndDynamicInBothLayoutsAndBothTypeKeys() {
        RopeScaling legacy = ModelConfig.parse(small("\"rope_theta\": 10000.0, \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}"))
                .ropeScaling();
        RopeScaling v5 = ModelConfig.parse(small("\"rope_parameters\": {\"rope_type\": \"linear\", \"factor\": 2.0, \"rope_theta\": 10000.0}"))
                .ropeScaling();
        assertThat(legacy).isEqualTo(v5).isEqualTo(RopeScaling.linear(2));
        // Served context stretched by the factor, as vLLM derives max_model_len (the fixture states 1,024 positions).
        assertThat(ModelConfig.parse(small("\"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}")).maxContextLength())
                .isEqualTo(2048);
        ModelConfig dynamic = ModelConfig.parse(small("\"rope_scaling\": {\"rope_type\": \"dynamic\", \"factor\": 4}"));
        assertThat(dynamic.ropeScaling()).isEqualTo(RopeScaling.dynamic(4));
        assertThat(dynamic.maxContextLength()).isEqualTo(4096);
        ModelConfig v5Default = ModelConfig.parse(small("\"rope_theta\": 1.0, \"rope_parameters\": {\"rope_type\": \"default\", \"rope_theta\": 1000000.0}"));
        assertThat(v5Default.ropeTheta()).isEqualTo(1e6);
        assertThat(v5Default.ropeScaling()).isEqualTo(RopeScaling.none());
    }

    /**
     * A transformers 5.x config (rope_parameters) given a long-context switch the 4.x way (Qwen's
     * documented rope_scaling for YaRN): rope_scaling wins, as transformers reads them, with the
     * theta from rope_parameters; it was silently ignored.
     */
    @Test
    void ropeScalingBesideRopeParametersIsTheScaling() {
        ModelConfig cfg = ModelConfig.parse(small("\"rope_theta\": 1000000.0,"
                + " \"rope_parameters\": {\"rope_theta\": 1000000.0, \"rope_type\": \"default\"},"
                + " \"rope_scaling\": {\"type\": \"yarn\", \"factor\": 4.0, \"original_max_position_embeddings\": 1024}"));
        assertThat(cfg.ropeScaling().type()).isEqualTo(RopeScaling.Type.YARN);
        assertThat(cfg.ropeScaling().factor()).isEqualTo(4.0);
        assertThat(cfg.ropeTheta()).isEqualTo(1e6);
        assertThat(cfg.maxContextLength()).isEqualTo(4096);
        ModelConfig thetaInParameters = ModelConfig.parse(small("\"rope_parameters\": {\"rope_theta\": 500000.0},"
                + " \"rope_scaling\": {\"type\": \"linear\", \"factor\": 2.0}"));
        assertThat(thetaInParameters.ropeTheta()).isEqualTo(5e5);
        assertThat(thetaInParameters.ropeScaling()).isEqualTo(RopeScaling.linear(2));
        // A null rope_scaling beside rope_parameters leaves rope_parameters in charge.
        assertThat(ModelConfig.parse(small("\"rope_scaling\": null, \"rope_parameters\": {\"rope_type\": \"linear\","
                + " \"factor\": 2.0, \"rope_theta\": 10000.0}")).ropeScaling()).isEqualTo(RopeScaling.linear(2));
    }

    @Test
    void defaultsFollowTheTransformersConfigClasses() {
        ModelConfig bare = ModelConfig.parse("""
                {"vocab_size": 10, "hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 2, "num_attention_heads": 4}""");
        assertThat(bare.architecture()).isEqualTo("LlamaForCausalLM");
        assertThat(bare.numKvHeads()).isEqualTo(4);
        assertThat(bare.headDim()).isEqualTo(16);
        assertThat(bare.maxPositionEmbeddings()).isEqualTo(2048);
        assertThat(bare.rmsNormEps()).isEqualTo(1e-6f);
        assertThat(bare.ropeTheta()).isEqualTo(10000.0);
        assertThat(bare.bosTokenId()).isEqualTo(-1);
        assertThat(bare.eosTokenIds()).isEmpty();
        assertThat(ModelConfig.parse(qwen("\"num_key_value_heads\": null")).numKvHeads()).isEqualTo(4);
        ModelConfig byType = ModelConfig.parse(small("").replace("\"architectures\": [\"LlamaForCausalLM\"],", "\"model_type\": \"mistral\","));
        assertThat(byType.architecture()).isEqualTo("MistralForCausalLM");
        assertThat(ModelConfig.parse(small("\"bos_token_id\": [5, 6], \"eos_token_id\": 7")).bosTokenId()).isEqualTo(5);
        assertThat(ModelConfig.parse(small("\"head_dim\": 32")).qDim()).isEqualTo(128);
    }

    @Test
    void whatPodserveCannotRunIsRefusedNamingConfigJsonAndTheField() {
        assertThatThrownBy(() -> ModelConfig.parse(small("").replace("LlamaForCausalLM", "GPT2LMHeadModel")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("config.json")
                .hasMessageContaining("architectures[0] 'GPT2LMHeadModel'").hasMessageContaining("Qwen2ForCausalLM");
        assertThatThrownBy(() -> ModelConfig.parse(small("\"rope_scaling\": {\"rope_type\": \"longrope\", \"factor\": 2}")))
                .hasMessageContaining("config.json").hasMessageContaining("rope_scaling.rope_type 'longrope'");
        assertThatThrownBy(() -> ModelConfig.parse(small("\"rope_parameters\": {\"type\": \"su\"}")))
                .hasMessageContaining("rope_parameters.type 'su'");
        assertThatThrownBy(() -> ModelConfig.parse(small("\"hidden_act\": \"gelu\"")))
                .hasMessageContaining("config.json").hasMessageContaining("hidden_act 'gelu'");
        assertThatThrownBy(() -> ModelConfig.parse(small("\"rope_scaling\": {\"rope_type\": \"linear\"}")))
                .hasMessageContaining("rope_scaling.factor is required");
        assertThatThrownBy(() -> ModelConfig.parse(small("\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8, \"low_freq_factor\": 4,"
                + " \"high_freq_factor\": 1, \"original_max_position_embeddings\": 8192}")))
                .hasMessageContaining("low_freq_factor < high_freq_factor");
        // As transformers: llama3 scaling needs the pretraining context; max_position_embeddings is the extended one.
        assertThatThrownBy(() -> ModelConfig.parse(small("\"rope_scaling\": {\"rope_type\": \"llama3\", \"factor\": 8, \"low_freq_factor\": 1,"
                + " \"high_freq_factor\": 4}"))).hasMessageContaining("needs original_max_position_embeddings");
        assertThatThrownBy(() -> ModelConfig.parse(small("\"quantization_config\": {\"quant_method\": \"awq\"}")))
                .hasMessageContaining("config.json").hasMessageContaining("quant_method 'awq'");
        assertThatThrownBy(() -> ModelConfig.parse(small("\"eos_token_id\": [2, null]"))).hasMessageContaining("eos_token_id");
        assertThatThrownBy(() -> ModelConfig.parse(small("\"eos_token_id\": \"2\""))).hasMessageContaining("eos_token_id");
        assertThatThrownBy(() -> ModelConfig.parse("{\"architectures\": [\"LlamaForCausalLM\"],}"))
                .hasMessageContaining("config.json: is not valid JSON");
        assertThatThrownBy(() -> GenerationConfig.parse("{\"eos_token_id\": 2,}"))
                .hasMessageContaining("generation_config.json: is not valid JSON");
        assertThat(GenerationConfig.parse("{\"eos_token_id\": [2, 7]}").eosTokenIds()).containsExactly(2, 7);
        assertThatThrownBy(() -> ModelConfig.parse(small("\"attention_bias\": true"))).hasMessageContaining("attention_bias");
        assertThatThrownBy(() -> ModelConfig.parse(small("\"mlp_bias\": true"))).hasMessageContaining("mlp_bias");
        assertThatThrownBy(() -> ModelConfig.parse(small("\"partial_rotary_factor\": 0.5"))).hasMessageContaining("partial_rotary_factor");
        assertThatThrownBy(() -> ModelConfig.parse(small("\"rope_parameters\": {\"full_attention\": {\"rope_type\": \"default\"}}")))
                .hasMessageContaining("rope_parameters.full_attention");
        assertThatThrownBy(() -> ModelConfig.parse(qwen("\"use_sliding_window\": true, \"sliding_window\": 0")))
                .hasMessageContaining("sliding_window");
        assertThatThrownBy(() -> ModelConfig.parse(qwen("\"use_sliding_window\": true, \"layer_types\": [\"full_attention\"]")))
                .hasMessageContaining("layer_types has 1 entries for 4 layers");
        assertThatThrownBy(() -> ModelConfig.parse(qwen("\"use_sliding_window\": true, \"layer_types\": [\"full_attention\","
                + " \"chunked_attention\", \"full_attention\", \"full_attention\"]"))).hasMessageContaining("layer_types[1] 'chunked_attention'");
        assertThatThrownBy(() -> ModelConfig.parse(small("\"hidden_size\": \"64\""))).hasMessageContaining("'hidden_size' must be an integer");
        assertThatThrownBy(() -> ModelConfig.parse(small("\"num_key_value_heads\": 3"))).hasMessageContaining("num_key_value_heads");
        assertThatThrownBy(() -> ModelConfig.parse(small("").replace("\"vocab_size\": 100,", ""))).hasMessageContaining("'vocab_size'");
    }
}
