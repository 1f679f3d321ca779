package dev.podserve.engine;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.function.UnaryOperator;

import dev.podserve.backend.ComputeBackend;
import dev.podserve.backend.cpu.CpuBackend;
import dev.podserve.kvcache.KvCacheManager;
import dev.podserve.model.DummyWeights;
import dev.podserve.model.GenerationConfig;
import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelFolder;
import dev.podserve.model.ModelWeights;
import dev.podserve.scheduler.ChunkedPrefillScheduler;
import dev.podserve.scheduler.SchedulerSettings;
import dev.podserve.tokenizer.HfTokenizer;

/** The embedded default model, loaded once per test JVM, and engines built over it. */
public final class TinyModel {

    public static final ModelFolder FOLDER = ModelFolder.embeddedDefault();
    public static final ModelConfig CONFIG;
    public static final int[] EOS;
    public static final ModelWeights WEIGHTS;
    public static final HfTokenizer TOKENIZER;

    static {
        try {
            CONFIG = ModelConfig.load(FOLDER.configJson());
            EOS = GenerationConfig.load(FOLDER.generationConfigJson()).eosIdsWith(CONFIG);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        WEIGHTS = DummyWeights.generate(CONFIG, 20250302L);
        TOKENIZER = HfTokenizer.load(FOLDER.dir());
    }

    private TinyModel() {
    }

    public static Engine engine(int numBlocks, int budget, int maxSeqs, int threshold, UnaryOperator<ComputeBackend> wrap) {
        return engine(numBlocks, budget, maxSeqs, threshold, EOS, wrap);
    }

    /** As {@link #engine(int, int, int, int, UnaryOperator)}, with other EOS ids than the model's. */
    public static Engine engine(int numBlocks, int budget, int maxSeqs, int threshold, int[] eos, UnaryOperator<ComputeBackend> wrap) {
        return engine(numBlocks, budget, maxSeqs, threshold, eos, wrap, EngineListener.NONE);
    }

    /** As above, reporting to {@code listener}. */
    public static Engine engine(int numBlocks, int budget, int maxSeqs, int threshold, int[] eos, UnaryOperator<ComputeBackend> wrap,
                                EngineListener listener) {
        return engine(numBlocks, budget, maxSeqs, threshold, eos, wrap, listener, false);
    }

    /** As above, with prefix caching on or off. */
    public static Engine engine(int numBlocks, int budget, int maxSeqs, int threshold, int[] eos, UnaryOperator<ComputeBackend> wrap,
                                EngineListener listener, boolean prefixCaching) {
        int blockSize = 16;
        ComputeBackend backend = wrap.apply(new CpuBackend(CONFIG, WEIGHTS, numBlocks, blockSize, 2));
        ChunkedPrefillScheduler scheduler = new ChunkedPrefillScheduler(
                new SchedulerSettings(budget, maxSeqs, threshold, CONFIG.maxPositionEmbeddings()),
                new KvCacheManager(numBlocks, blockSize, prefixCaching));
        return new Engine(backend, scheduler, TOKENIZER, CONFIG.maxPositionEmbeddings(), eos, listener);
    }

    /** Waits until the engine runs and queues nothing and holds no KV page; fails after {@code timeout}. */
    public static void awaitIdle(Engine engine, java.time.Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            EngineStats s = engine.stats();
            if (s.running() == 0 && s.waiting() == 0 && s.kvUsage() == 0.0) return;
            Thread.sleep(2);
        }
        throw new AssertionError("engine did not become idle: " + engine.stats());
    }

    public static Engine engine() {
        return engine(512, 256, 32, 64, b -> b);
    }
}
