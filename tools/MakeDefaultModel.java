import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes the embedded default model folder (podserve-tiny): config.json, tokenizer.json,
 * tokenizer_config.json and generation_config.json, byte for byte the same on every run.
 *
 * <p>The tokenizer is byte-level BPE with no merges, so every UTF-8 byte is one token and any text
 * round-trips; the model shape is small enough for the CPU backend to serve in tests.
 *
 * <p>Run from the repository root: {@code java tools/MakeDefaultModel.java src/main/resources/models/podserve-tiny}
 *
 * <p>{@code --shape llama-3-8b} writes a Llama-3-8B-shaped folder instead (32 layers, 4096 hidden,
 * 32/8 heads of 128, 128,256-entry vocabulary) for serving benchmarks with dummy weights
 * ({@code podserve.model.load-format=dummy}) where no checkpoint can be downloaded: the same
 * byte-level tokenizer, its vocabulary filled up to the model's with tokens of two and three
 * printable ASCII characters, so every id the model can sample decodes to plain text. Encoding
 * never produces them (there are no merges); prompts of token ids reach them all.
 */
public final class MakeDefaultModel {

    private static final String[] SPECIAL_TOKENS = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
    private static final int BYTE_TOKENS = 256;
    private static final int ENDOFTEXT = 256;
    private static final int IM_END = 258;

    private static final String CHAT_TEMPLATE = """
            {%- if tools is defined and tools %}
                {{- '<|im_start|>system\\nTools:\\n' }}
                {%- for tool in tools %}
                    {{- tool | tojson + '\\n' }}
                {%- endfor %}
                {{- '<|im_end|>\\n' }}
            {%- endif %}
            {%- for message in messages %}
                {%- if message['role'] not in ['system', 'user', 'assistant', 'tool'] %}
                    {{- raise_exception('podserve-tiny supports the roles system, user, assistant and tool, not ' + message['role']) }}
                {%- endif %}
                {%- set content = message['content'] if message['content'] is string else '' %}
                {{- '<|im_start|>' + message['role'] + '\\n' + content }}
                {%- if message['tool_calls'] is defined and message['tool_calls'] %}
                    {%- for call in message['tool_calls'] %}
                        {{- '<tool_call>' + call['function'] | tojson + '</tool_call>' }}
                    {%- endfor %}
                {%- endif %}
                {{- '<|im_end|>\\n' }}
            {%- endfor %}
            {%- if add_generation_prompt %}
                {{- '<|im_start|>assistant\\n' }}
            {%- endif %}
            """;

    /** A number written exactly as given, so the files read like the ones transformers writes. */
    private record Raw(String text) {
    }

    /** Vocabulary of the Llama-3-8B shape. */
    private static final int LLAMA3_VOCAB = 128256;

    public static void main(String[] args) throws IOException {
        boolean llama = args.length == 3 && args[1].equals("--shape") && args[2].equals("llama-3-8b");
        if (args.length != 1 && !llama) {
            System.err.println("usage: java tools/MakeDefaultModel.java <output folder> [--shape llama-3-8b]");
            System.exit(2);
        }
        Path out = Path.of(args[0]);
        Files.createDirectories(out);
        int vocab = llama ? LLAMA3_VOCAB : BYTE_TOKENS + SPECIAL_TOKENS.length;
        write(out.resolve("config.json"), config(llama, vocab));
        write(out.resolve("tokenizer.json"), tokenizer(vocab));
        write(out.resolve("tokenizer_config.json"), tokenizerConfig());
        write(out.resolve("generation_config.json"), generationConfig());
        System.out.println("wrote " + (llama ? "a Llama-3-8B-shaped dummy model" : "podserve-tiny") + " to " + out);
    }

    private static Map<String, Object> config(boolean llama, int vocab) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("architectures", List.of("LlamaForCausalLM"));
        c.put("model_type", "llama");
        c.put("vocab_size", vocab);
        c.put("hidden_size", llama ? 4096 : 256);
        c.put("intermediate_size", llama ? 14336 : 688);
        c.put("num_hidden_layers", llama ? 32 : 4);
        c.put("num_attention_heads", llama ? 32 : 8);
        c.put("num_key_value_heads", llama ? 8 : 2);
        c.put("head_dim", llama ? 128 : 32);
        c.put("hidden_act", "silu");
        c.put("rms_norm_eps", new Raw("1e-05"));
        c.put("rope_theta", new Raw(llama ? "500000.0" : "10000.0"));
        c.put("rope_scaling", null);
        c.put("max_position_embeddings", llama ? 32768 : 4096);
        c.put("attention_bias", false);
        c.put("mlp_bias", false);
        c.put("initializer_range", new Raw("0.02"));
        c.put("tie_word_embeddings", false);
        c.put("bos_token_id", ENDOFTEXT);
        c.put("eos_token_id", IM_END);
        c.put("torch_dtype", llama ? "bfloat16" : "float32");
        return c;
    }

    private static Map<String, Object> generationConfig() {
        Map<String, Object> g = new LinkedHashMap<>();
        g.put("bos_token_id", ENDOFTEXT);
        g.put("eos_token_id", List.of(IM_END, ENDOFTEXT));
        return g;
    }

    private static Map<String, Object> tokenizer(int vocabSize) {
        Map<String, Object> byteLevel = new LinkedHashMap<>();
        byteLevel.put("type", "ByteLevel");
        byteLevel.put("add_prefix_space", false);
        byteLevel.put("trim_offsets", true);
        byteLevel.put("use_regex", true);

        Map<String, Object> vocab = new LinkedHashMap<>();
        char[] symbols = byteSymbols();
        for (int b = 0; b < BYTE_TOKENS; b++) vocab.put(String.valueOf(symbols[b]), b);
        // Filler past the special tokens: "!!", "!\"", ... then three characters, all printable
        // ASCII (which the byte-level table maps to itself), so each decodes to 2-3 plain bytes.
        // The special tokens join the model's vocabulary too when filler follows them: the
        // tokenizers library decodes nothing for the last ids of a vocabulary with a hole in it.
        if (vocabSize > BYTE_TOKENS + SPECIAL_TOKENS.length) {
            for (int i = 0; i < SPECIAL_TOKENS.length; i++) vocab.put(SPECIAL_TOKENS[i], BYTE_TOKENS + i);
        }
        int id = BYTE_TOKENS + SPECIAL_TOKENS.length;
        for (int len = 2; id < vocabSize; len++) {
            int[] digits = new int[len];
            while (id < vocabSize) {
                StringBuilder t = new StringBuilder(len);
                for (int d : digits) t.append((char) ('!' + d));
                vocab.put(t.toString(), id++);
                int i = len - 1;
                while (i >= 0 && ++digits[i] == 94) digits[i--] = 0;
                if (i < 0) break;
            }
        }

        Map<String, Object> model = new LinkedHashMap<>();
        model.put("type", "BPE");
        model.put("dropout", null);
        model.put("unk_token", null);
        model.put("continuing_subword_prefix", null);
        model.put("end_of_word_suffix", null);
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("vocab", vocab);
        model.put("merges", List.of());

        Map<String, Object> t = new LinkedHashMap<>();
        t.put("version", "1.0");
        t.put("truncation", null);
        t.put("padding", null);
        t.put("added_tokens", addedTokens());
        t.put("normalizer", null);
        t.put("pre_tokenizer", byteLevel);
        t.put("post_processor", null);
        t.put("decoder", byteLevel);
        t.put("model", model);
        return t;
    }

    private static List<Object> addedTokens() {
        List<Object> tokens = new ArrayList<>();
        for (int i = 0; i < SPECIAL_TOKENS.length; i++) {
            Map<String, Object> a = new LinkedHashMap<>();
            a.put("id", BYTE_TOKENS + i);
            a.putAll(specialToken(SPECIAL_TOKENS[i]));
            tokens.add(a);
        }
        return tokens;
    }

    private static Map<String, Object> specialToken(String content) {
        Map<String, Object> a = new LinkedHashMap<>();
        a.put("content", content);
        a.put("single_word", false);
        a.put("lstrip", false);
        a.put("rstrip", false);
        a.put("normalized", false);
        a.put("special", true);
        return a;
    }

    private static Map<String, Object> tokenizerConfig() {
        Map<String, Object> decoder = new LinkedHashMap<>();
        for (int i = 0; i < SPECIAL_TOKENS.length; i++) {
            decoder.put(String.valueOf(BYTE_TOKENS + i), specialToken(SPECIAL_TOKENS[i]));
        }
        Map<String, Object> c = new LinkedHashMap<>();
        // ChatML prompts carry their own markers, so nothing is prepended when encoding.
        c.put("add_bos_token", false);
        c.put("add_eos_token", false);
        c.put("added_tokens_decoder", decoder);
        c.put("additional_special_tokens", List.of(SPECIAL_TOKENS[1], SPECIAL_TOKENS[2]));
        c.put("bos_token", SPECIAL_TOKENS[0]);
        c.put("chat_template", CHAT_TEMPLATE.strip());
        c.put("clean_up_tokenization_spaces", false);
        c.put("eos_token", SPECIAL_TOKENS[2]);
        c.put("errors", "replace");
        c.put("model_max_length", 4096);
        c.put("pad_token", SPECIAL_TOKENS[0]);
        c.put("tokenizer_class", "PreTrainedTokenizerFast");
        c.put("unk_token", null);
        return c;
    }

    /**
     * GPT-2's reversible byte-to-character table: printable Latin-1 bytes stand for themselves and
     * the rest (controls, space, a few others) are moved to U+0100 upwards, in byte order.
     */
    private static char[] byteSymbols() {
        char[] symbols = new char[BYTE_TOKENS];
        int shifted = 0;
        for (int b = 0; b < BYTE_TOKENS; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            symbols[b] = printable ? (char) b : (char) (BYTE_TOKENS + shifted++);
        }
        return symbols;
    }

    private static void write(Path file, Object json) throws IOException {
        StringBuilder sb = new StringBuilder();
        append(sb, json, 0);
        sb.append('\n');
        Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
    }

    private static void append(StringBuilder sb, Object v, int depth) {
        if (v == null) {
            sb.append("null");
        } else if (v instanceof Raw raw) {
            sb.append(raw.text());
        } else if (v instanceof String s) {
            quote(sb, s);
        } else if (v instanceof Number || v instanceof Boolean) {
            sb.append(v);
        } else if (v instanceof Map<?, ?> map) {
            appendEntries(sb, '{', '}', map.entrySet().stream().map(e -> (Object) e).toList(), depth);
        } else if (v instanceof List<?> list) {
            appendEntries(sb, '[', ']', new ArrayList<>(list), depth);
        } else {
            throw new IllegalArgumentException("cannot write " + v.getClass());
        }
    }

    private static void appendEntries(StringBuilder sb, char open, char close, List<Object> items, int depth) {
        sb.append(open);
        if (items.isEmpty()) {
            sb.append(close);
            return;
        }
        for (int i = 0; i < items.size(); i++) {
            sb.append(i == 0 ? "\n" : ",\n").append("  ".repeat(depth + 1));
            Object item = items.get(i);
            if (item instanceof Map.Entry<?, ?> e) {
                quote(sb, String.valueOf(e.getKey()));
                sb.append(": ");
                append(sb, e.getValue(), depth + 1);
            } else {
                append(sb, item, depth + 1);
            }
        }
        sb.append('\n').append("  ".repeat(depth)).append(close);
    }

    /** Escapes everything outside printable ASCII, so the files are plain ASCII whatever the editor. */
    private static void quote(StringBuilder sb, String s) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\t' -> sb.append("\\t");
                default -> {
                    if (c >= 0x20 && c < 0x7F) sb.append(c);
                    else sb.append(String.format("\\u%04x", (int) c));
                }
            }
        }
        sb.append('"');
    }
}
