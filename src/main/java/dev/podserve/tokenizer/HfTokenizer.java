package dev.podserve.tokenizer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

/**
 * A model's HuggingFace tokenizer ({@code tokenizer.json} run by the Rust tokenizers library
 * through DJL) together with what {@code tokenizer_config.json} adds. Token ids match
 * {@code transformers}. Thread-safe: the native tokenizer is immutable once loaded.
 */
public final class HfTokenizer implements AutoCloseable {

    private final HuggingFaceTokenizer tokenizer;
    private final TokenizerFiles files;
    private final OptionalInt bosId;
    private final OptionalInt eosId;
    private final TokenBytes tokenBytes;
    /** Whether tokenizer.json's post-processor puts BOS first / EOS last: the default of a flag the config leaves out. */
    private final boolean postProcessorAddsBos;
    private final boolean postProcessorAddsEos;

    private HfTokenizer(HuggingFaceTokenizer tokenizer, TokenizerFiles files) {
        this.tokenizer = tokenizer;
        this.files = files;
        this.tokenBytes = new TokenBytes(files);
        this.bosId = idOf(files.bosToken());
        this.eosId = idOf(files.eosToken());
        int[] plain = toInts(tokenizer.encode("a", false, false).getIds());
        int[] processed = toInts(tokenizer.encode("a", true, false).getIds());
        boolean added = processed.length > plain.length;
        this.postProcessorAddsBos = added && bosId.isPresent() && processed[0] == bosId.getAsInt();
        this.postProcessorAddsEos = added && eosId.isPresent() && processed[processed.length - 1] == eosId.getAsInt();
    }

    /** Loads {@code tokenizer.json} and, where present, {@code tokenizer_config.json} from a model folder. */
    public static HfTokenizer load(Path modelDir) {
        Path json = modelDir.resolve("tokenizer.json");
        if (!Files.isRegularFile(json)) {
            throw new IllegalArgumentException(modelDir + " has no tokenizer.json");
        }
        // DJL otherwise asks the cloud metadata endpoint who we are on first use; a server has no business calling out.
        if (System.getProperty("OPT_OUT_TRACKING") == null && System.getenv("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true");
        }
        // On a machine with CUDA, DJL looks for a CUDA build of the tokenizer library and, not finding
        // one in the jar, tries to download it: an offline GPU host then fails to start. Tokenizing is
        // CPU work; the jar's own CPU build is the one to use.
        if (System.getProperty("RUST_FLAVOR") == null && System.getenv("RUST_FLAVOR") == null) {
            System.setProperty("RUST_FLAVOR", "cpu");
        }
        try {
            TokenizerFiles files = TokenizerFiles.read(modelDir);
            // DJL truncates to 512 tokens and pads unless told not to; prompts are limited elsewhere, by max_model_len.
            HuggingFaceTokenizer tokenizer = HuggingFaceTokenizer.newInstance(json,
                    Map.of("truncation", "false", "padding", "false"));
            return new HfTokenizer(tokenizer, files);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load the tokenizer from " + modelDir, e);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("cannot load the tokenizer from " + json + ": " + e.getMessage(), e);
        }
    }

    /**
     * Token ids of a text with the model's special tokens added, as {@code tokenizer(text)} does:
     * where the config states {@code add_bos_token}/{@code add_eos_token} they decide (as Llama's
     * tokenizer does), otherwise the post-processor in tokenizer.json. A config that states only
     * one of them leaves the other as the post-processor has it (Llama's tokenizer defaults
     * {@code add_bos_token} to true, and its tokenizer.json adds BOS). Special tokens written in the
     * text become their ids.
     */
    public int[] encode(String text) {
        if (files.addBosToken() == null && files.addEosToken() == null) {
            return toInts(tokenizer.encode(text, true, false).getIds());
        }
        int[] body = encodeNoSpecial(text);
        boolean bos = (files.addBosToken() != null ? files.addBosToken() : postProcessorAddsBos) && bosId.isPresent();
        boolean eos = (files.addEosToken() != null ? files.addEosToken() : postProcessorAddsEos) && eosId.isPresent();
        int[] ids = new int[body.length + (bos ? 1 : 0) + (eos ? 1 : 0)];
        if (bos) ids[0] = bosId.getAsInt();
        System.arraycopy(body, 0, ids, bos ? 1 : 0, body.length);
        if (eos) ids[ids.length - 1] = eosId.getAsInt();
        return ids;
    }

    /** Token ids of a text with nothing added, for text whose special tokens are already in it (a rendered chat). */
    public int[] encodeNoSpecial(String text) {
        return toInts(tokenizer.encode(text, false, false).getIds());
    }

    /** The text of these ids; bytes that do not form a character come out as U+FFFD. Unknown ids decode to nothing. */
    public String decode(int[] ids, boolean skipSpecialTokens) {
        long[] longs = new long[ids.length];
        for (int i = 0; i < ids.length; i++) longs[i] = ids[i];
        return tokenizer.decode(longs, skipSpecialTokens);
    }

    /**
     * The raw bytes one token stands for (logprobs' {@code bytes}): part of a UTF-8 character
     * where the token is, where decoding it alone would give U+FFFD. See {@link TokenBytes}.
     */
    public byte[] tokenBytes(int id) {
        byte[] b = tokenBytes.of(id);
        return b != null ? b : decode(new int[] {id}, false).getBytes(StandardCharsets.UTF_8);
    }

    /** Tokens the tokenizer knows, added tokens included ({@code len(tokenizer)}); config.json's vocab_size may be larger. */
    public int vocabSize() {
        return files.vocabSize();
    }

    /** The id of a vocabulary entry or added token, given as it is stored (e.g. {@code "Ġthe"}, {@code "<|im_end|>"}). */
    public OptionalInt tokenId(String token) {
        Integer id = files.vocab().get(token);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }

    /** Whether decoding with skipSpecialTokens drops this id. */
    public boolean isSpecial(int id) {
        return id >= 0 && files.specialIds().get(id);
    }

    /**
     * Whether this is a SentencePiece byte token ({@code <0xE4>}). Such a decoder turns a run of
     * them into text only as a whole, so a run's text is not final until a different token ends it.
     */
    boolean isByteFallback(int id) {
        return id >= 0 && files.byteFallbackIds().get(id);
    }

    /** The BOS token's text, or null where the model has none. */
    public String bosToken() {
        return files.bosToken();
    }

    /** The EOS token's text, or null where the model has none. */
    public String eosToken() {
        return files.eosToken();
    }

    public OptionalInt bosTokenId() {
        return bosId;
    }

    public OptionalInt eosTokenId() {
        return eosId;
    }

    public Optional<String> chatTemplate() {
        return Optional.ofNullable(files.chatTemplate());
    }

    /** The template named "tool_use", which a request with tools renders through; empty where the model has none. */
    public Optional<String> toolUseChatTemplate() {
        return Optional.ofNullable(files.toolUseChatTemplate());
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    private OptionalInt idOf(String token) {
        return token == null ? OptionalInt.empty() : tokenId(token);
    }

    private static int[] toInts(long[] ids) {
        return Arrays.stream(ids).mapToInt(Math::toIntExact).toArray();
    }
}
