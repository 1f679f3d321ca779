package dev.podserve.config;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.function.UnaryOperator;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.podserve.backend.BackendDecorator;
import dev.podserve.attention.AttentionMode;
import dev.podserve.attention.SmPolicy;
import dev.podserve.attention.PodPolicyAdvisor;
import dev.podserve.attention.StepAttentionChooser;
import dev.podserve.backend.ComputeBackend;
import dev.podserve.backend.cpu.CpuBackend;
import dev.podserve.backend.cuda.CudaBackend;
import dev.podserve.backend.cuda.CudaOptions;
import dev.podserve.engine.Engine;
import dev.podserve.engine.EngineListener;
import dev.podserve.engine.ServingModel;
import dev.podserve.kvcache.KvCacheManager;
import dev.podserve.model.CheckpointLoader;
import dev.podserve.model.DummyWeights;
import dev.podserve.model.GenerationConfig;
import dev.podserve.model.LoadedCheckpoint;
import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelFolder;
import dev.podserve.model.ModelWeights;
import dev.podserve.scheduler.ChunkedPrefillScheduler;
import dev.podserve.scheduler.KvAdmission;
import dev.podserve.scheduler.SchedulerSettings;
import dev.podserve.scheduler.SchedulingPolicy;
import dev.podserve.tokenizer.ChatTemplate;
import dev.podserve.tokenizer.HfTokenizer;

/**
 * Turns {@link PodserveProperties} into a running {@link ServingModel}: finds the model folder,
 * reads its config, makes the weights, sizes the KV cache, and starts the engine. Every failure
 * names the setting or file at fault.
 */
public final class ModelLoader {

    private static final Logger log = LoggerFactory.getLogger(ModelLoader.class);

    private ModelLoader() {
    }

    public static ServingModel load(PodserveProperties props, EngineListener listener) {
        return load(props, listener, b -> b);
    }

    /** @param decorate wraps the backend before the engine gets it (see {@link BackendDecorator}) */
    public static ServingModel load(PodserveProperties props, EngineListener listener, UnaryOperator<ComputeBackend> decorate) {
        long t0 = System.nanoTime();
        PodserveProperties.Model m = props.model();
        ModelFolder folder = m.path() == null || m.path().isBlank()
                ? ModelFolder.embeddedDefault() : ModelFolder.of(Path.of(m.path()));
        ModelConfig config;
        GenerationConfig generation;
        try {
            config = ModelConfig.load(folder.configJson());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + folder.configJson(), e);
        }
        try {
            generation = GenerationConfig.load(folder.generationConfigJson());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + folder.generationConfigJson(), e);
        }
        boolean dummy = folder.embedded() || "dummy".equals(m.loadFormat());

        // Rope scaling (dynamic, yarn) can stretch the context beyond max_position_embeddings.
        int modelMax = config.maxContextLength();
        int maxModelLen = props.scheduler().maxModelLen() == 0 ? modelMax : props.scheduler().maxModelLen();
        if (maxModelLen > modelMax) {
            throw new IllegalArgumentException("podserve.scheduler.max-model-len=" + maxModelLen
                    + " exceeds the longest context the model supports, " + modelMax + " (config.json max_position_embeddings"
                    + (modelMax > config.maxPositionEmbeddings() ? " times its rope scaling)" : ")"));
        }
        int blockSize = props.kvCache().blockSize();
        SchedulerSettings settings = new SchedulerSettings(props.scheduler().maxNumBatchedTokens(),
                props.scheduler().maxNumSeqs(), props.scheduler().longPrefillTokenThreshold(), maxModelLen,
                KvAdmission.valueOf(props.scheduler().kvAdmission().toUpperCase(java.util.Locale.ROOT)),
                props.scheduler().waitForSharedPrefix(),
                SchedulingPolicy.valueOf(props.scheduler().policy().toUpperCase(java.util.Locale.ROOT)));

        HfTokenizer tokenizer = HfTokenizer.load(folder.dir());
        ChatTemplate template = chatTemplateText(m, tokenizer)
                .map(t -> new ChatTemplate(t, tokenizer.bosToken(), tokenizer.eosToken())).orElse(null);
        // The checkpoint's "tool_use" template serves requests with tools, unless a template is configured.
        boolean ownTemplate = m.chatTemplate() == null || m.chatTemplate().isBlank();
        if (template != null && ownTemplate && tokenizer.toolUseChatTemplate().isPresent()) {
            template = template.withToolUse(tokenizer.toolUseChatTemplate().get());
        }

        // The dummy model on a GPU is drawn on the device: no host copy (32 GB of fp32 for an 8B model).
        java.util.Optional<String> noCuda = cudaUnusableReason(props, config);
        ModelWeights weights = null;
        String weightsSource;
        ComputeBackend backend;
        if (dummy && noCuda.isEmpty()) {
            backend = CudaBackend.withDummyWeights(config, m.seed(), cudaOptions(props));
            weightsSource = "dummy, seed " + m.seed() + ", generated on the device";
            log.info("backend: {} (podserve.backend={})", backend.describe(), props.backend());
        } else {
            if (dummy) {
                weights = DummyWeights.generate(config, m.seed());
                weightsSource = "dummy, seed " + m.seed();
            } else {
                LoadedCheckpoint checkpoint = CheckpointLoader.load(folder.dir(), config, props.cpu().effectiveThreads());
                weights = checkpoint.weights();
                weightsSource = String.format("%s checkpoint, %d tensors from %d file(s), %.0f MB read in %.1f s at %.0f MB/s",
                        checkpoint.dtype(), checkpoint.tensors(), checkpoint.files(), checkpoint.bytesRead() / 1e6,
                        checkpoint.seconds(), checkpoint.megabytesPerSecond());
            }
            backend = backend(props, config, weights);
        }
        boolean onGpu = backend instanceof CudaBackend;
        if (onGpu && attention(props).profile()) ((CudaBackend) backend).profileAttention(true);
        PodPolicyAdvisor podAdvisor = onGpu ? ((CudaBackend) backend).podPolicyAdvisor() : PodPolicyAdvisor.PROPORTIONAL;
        backend = decorate.apply(backend);
        int numBlocks = backend.numKvBlocks();
        // On a GPU the scheduler picks each hybrid step's attention kernel; the CPU backend has one.
        PodserveProperties.Attention a = attention(props);
        StepAttentionChooser chooser = onGpu ? new StepAttentionChooser(AttentionMode.of(a.mode()), SmPolicy.of(a.smPolicy()),
                config.numHeads(), config.numKvHeads(), config.headDim()).withAdvisor(podAdvisor) : null;
        ChunkedPrefillScheduler scheduler = new ChunkedPrefillScheduler(settings,
                new KvCacheManager(numBlocks, blockSize, props.kvCache().prefixCaching()), chooser);
        int[] eosIds = generation.eosIdsWith(config, tokenizer.eosTokenId());
        Engine engine = new Engine(backend, scheduler, tokenizer, maxModelLen, eosIds, listener);

        // Trimmed: " tiny " from an environment variable or a quoted YAML value would make every
        // request naming "tiny" a 404.
        String name = m.servedName() == null || m.servedName().isBlank() ? folder.name() : m.servedName().strip();
        String root = folder.embedded() ? ModelFolder.EMBEDDED_NAME : folder.dir().toString();
        long kvBytes = 2L * config.numLayers() * numBlocks * blockSize * config.kvDim()
                * (onGpu ? 2 : Float.BYTES);
        log.info("model {} ready in {} ms: {}, {} parameters (weights: {}), fp32 in host memory {} MB, max_model_len {},"
                        + " KV cache {} blocks x {} tokens ({} tokens, {} MB), backend {}", name,
                (System.nanoTime() - t0) / 1_000_000, config.architecture(), config.parameterCount(), weightsSource,
                weights == null ? 0 : weights.bytes() / 1_000_000, maxModelLen, numBlocks, blockSize, (long) numBlocks * blockSize,
                kvBytes / 1_000_000, backend.describe());
        long kvTokens = (long) numBlocks * blockSize;
        if (kvTokens < maxModelLen) {
            // Served anyway (vLLM refuses to start): a request longer than the cache gets a 400 naming it.
            log.warn("the KV cache holds {} tokens, fewer than max_model_len {}: a request (prompt and completion) over {} tokens"
                    + " is refused; raise podserve.kv-cache.memory (or num-blocks) or lower podserve.scheduler.max-model-len",
                    kvTokens, maxModelLen, kvTokens);
        }
        log.info("sampling defaults when a request leaves them out: temperature {}, top_p {}, top_k {}, min_p {}, repetition_penalty {},"
                        + " chat max_tokens {} ({}); EOS ids {}", generation.temperature().orElse(1.0), generation.topP().orElse(1.0),
                generation.topK().orElse(-1), generation.minP().orElse(0.0), generation.repetitionPenalty().orElse(1.0),
                generation.maxNewTokens().isPresent() ? generation.maxNewTokens().getAsInt() : "the context's room",
                Files.isRegularFile(folder.generationConfigJson()) ? "generation_config.json, then OpenAI's" : "OpenAI's",
                java.util.Arrays.toString(eosIds));
        return new ServingModel(name, root, config, generation, tokenizer, template, engine, backend.describe(),
                Instant.now().getEpochSecond());
    }

    /**
     * podserve.backend: {@code cpu}; {@code cuda} (fails naming the reason when the model or machine
     * does not allow it); {@code auto}, CUDA when the kernels support the model and a device and the
     * packaged fatbin are there, else the CPU. The checks before the device probe are pure Java, so a
     * machine without an NVIDIA driver never loads a CUDA library.
     */
    static ComputeBackend backend(PodserveProperties props, ModelConfig config, ModelWeights weights) {
        java.util.Optional<String> why = cudaUnusableReason(props, config);
        if (why.isEmpty()) {
            ComputeBackend cuda = new CudaBackend(config, weights, cudaOptions(props));
            log.info("backend: {} (podserve.backend={})", cuda.describe(), props.backend());
            return cuda;
        }
        if (!"cpu".equals(props.backend())) log.info("backend: cpu (podserve.backend=auto; CUDA not used: {})", why.get());
        int blocks = kvBlocks(props.kvCache(), config);
        try {
            return new CpuBackend(config, weights, blocks, props.kvCache().blockSize(), props.cpu().effectiveThreads());
        } catch (OutOfMemoryError e) {
            // The cache is Java arrays (fp32): name the setting rather than leave "Java heap space".
            throw kvDoesNotFit(props.kvCache(), config, blocks, "the Java heap cannot hold it; give the JVM more heap (-Xmx) or");
        }
    }

    private static IllegalArgumentException kvDoesNotFit(PodserveProperties.KvCache kv, ModelConfig config, long blocks, String why) {
        long bytes = 2L * config.numLayers() * blocks * kv.blockSize() * config.kvDim() * Float.BYTES;
        return new IllegalArgumentException(String.format("the CPU backend's KV cache of %d blocks (%.2f GiB of fp32, from %s)"
                + " does not fit: %s lower podserve.kv-cache.memory or podserve.kv-cache.num-blocks", blocks, bytes / 1073741824.0,
                kv.numBlocks() > 0 ? "podserve.kv-cache.num-blocks=" + kv.numBlocks() : "podserve.kv-cache.memory=" + kv.memory(), why));
    }

    /**
     * Why the CUDA backend will not be used, or empty when it will. Fails when podserve.backend=cuda
     * and it cannot be.
     */
    private static java.util.Optional<String> cudaUnusableReason(PodserveProperties props, ModelConfig config) {
        if ("cpu".equals(props.backend())) return java.util.Optional.of("podserve.backend=cpu");
        java.util.Optional<String> why = CudaBackend.unsupportedReason(config).or(CudaBackend::unavailableReason);
        if (why.isPresent() && "cuda".equals(props.backend())) {
            throw new IllegalStateException("podserve.backend=cuda, but " + why.get());
        }
        return why;
    }

    private static PodserveProperties.Attention attention(PodserveProperties props) {
        return props.attention() != null ? props.attention() : new PodserveProperties.Attention("pod", "auto", 0, "auto", true, false,
                CudaOptions.DEFAULT_SKINNY_GEMM_ROWS);
    }

    private static CudaOptions cudaOptions(PodserveProperties props) {
        PodserveProperties.Attention a = attention(props);
        return new CudaOptions(props.scheduler().maxNumBatchedTokens(), props.scheduler().maxNumSeqs(),
                props.kvCache().blockSize(), props.kvCache().numBlocks(), props.kvCache().memory().toBytes(), 0, a.cudaGraphs(),
                AttentionMode.of(a.mode()), SmPolicy.of(a.smPolicy()).code(), a.prefillSmFraction(), a.ctasPerSmCode(),
                a.skinnyGemmRows());
    }

    /** KV pages of the CPU backend: the configured count, or as many fp32 K+V pages of every layer as the memory holds. */
    static int kvBlocks(PodserveProperties.KvCache kv, ModelConfig config) {
        long blocks = kv.numBlocks();
        if (blocks <= 0) {
            long bytesPerBlock = 2L * config.numLayers() * kv.blockSize() * config.kvDim() * Float.BYTES;
            blocks = kv.memory().toBytes() / bytesPerBlock;
            if (blocks < 1) {
                throw new IllegalArgumentException("podserve.kv-cache.memory=" + kv.memory() + " holds no KV block of "
                        + bytesPerBlock + " bytes for this model");
            }
        }
        int most = CpuBackend.maxKvBlocks(kv.blockSize(), config.kvDim());
        if (blocks > most) {
            throw kvDoesNotFit(kv, config, blocks, "each layer's cache is one Java array, which holds at most " + most
                    + " blocks of this model;");
        }
        return (int) blocks;
    }

    /** The template file named by podserve.model.chat-template, else the checkpoint's own. */
    private static java.util.Optional<String> chatTemplateText(PodserveProperties.Model m, HfTokenizer tokenizer) {
        if (m.chatTemplate() == null || m.chatTemplate().isBlank()) return tokenizer.chatTemplate();
        Path file = Path.of(m.chatTemplate());
        try {
            return java.util.Optional.of(Files.readString(file));
        } catch (IOException e) {
            throw new IllegalArgumentException("podserve.model.chat-template=" + file + " cannot be read: " + e.getMessage(), e);
        }
    }
}
