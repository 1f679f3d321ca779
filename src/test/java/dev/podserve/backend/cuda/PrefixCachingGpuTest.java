package dev.podserve.backend.cuda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import dev.podserve.engine.Engine;
import dev.podserve.engine.EngineListener;
import dev.podserve.engine.GenerationRequest;
import dev.podserve.engine.RequestOutput;
import dev.podserve.engine.TinyModel;
import dev.podserve.engine.TokenLogprob;
import dev.podserve.kvcache.KvCacheManager;
import dev.podserve.sampling.SamplingParams;
import dev.podserve.scheduler.ChunkedPrefillScheduler;
import dev.podserve.scheduler.SchedulerSettings;

/**
 * Prefix caching on the CUDA backend: requests that start on pages computed for other requests
 * (whole prompts repeated, shared stems, admitted alone or beside each other in hybrid steps)
 * against the same requests on an engine that computes everything, both with the embedded model's
 * dummy weights on the device. The prefix's K/V were computed in other batches, so bf16 GEMMs may
 * round differently: tokens must agree except after a near tie, log-probabilities within rounding.
 */
@Tag("gpu")
class PrefixCachingGpuTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(120);
    private static final int PAGES = 512;

    private static Engine engine(boolean prefixCaching) {
        CudaBackend backend = CudaBackend.withDummyWeights(TinyModel.CONFIG, 9, new CudaBackend.Options(48, 8, 16, PAGES, 0, 0));
        ChunkedPrefillScheduler scheduler = new ChunkedPrefillScheduler(
                new SchedulerSettings(48, 8, 48, TinyModel.CONFIG.maxPositionEmbeddings()),
                new KvCacheManager(PAGES, 16, prefixCaching));
        return new Engine(backend, scheduler, TinyModel.TOKENIZER, TinyModel.CONFIG.maxPositionEmbeddings(), TinyModel.EOS,
                EngineListener.NONE);
    }

    private static SamplingParams greedy() {
        return SamplingParams.builder().temperature(0).maxTokens(8).ignoreEos(true).logprobs(4).build();
    }

    private static List<CompletableFuture<List<RequestOutput>>> submitAll(Engine engine, List<int[]> prompts, String tag) {
        List<CompletableFuture<List<RequestOutput>>> out = new ArrayList<>();
        for (int i = 0; i < prompts.size(); i++) {
            out.add(engine.submit(new GenerationRequest(tag + i, prompts.get(i), greedy())).collectList().toFuture());
        }
        return out;
    }

    private static List<TokenLogprob> logprobs(List<RequestOutput> outs) {
        List<TokenLogprob> all = new ArrayList<>();
        outs.forEach(o -> all.addAll(o.logprobs()));
        return all;
    }

    /** Same tokens up to a near tie of the reference, after which the two may go different ways. */
    private static void assertAgree(List<RequestOutput> want, List<RequestOutput> got, String what) {
        List<TokenLogprob> w = logprobs(want);
        List<TokenLogprob> g = logprobs(got);
        assertEquals(w.size(), g.size(), what);
        for (int t = 0; t < w.size(); t++) {
            TokenLogprob a = w.get(t);
            TokenLogprob b = g.get(t);
            if (a.token() != b.token()) {
                float gap = a.topLogprobs()[0] - a.topLogprobs()[1];
                assertTrue(gap < 0.1, what + " token " + t + ": " + b.token() + " against " + a.token() + ", gap " + gap);
                return;
            }
            assertTrue(Math.abs(a.logprob() - b.logprob()) < 0.05, what + " token " + t + " logprob " + b.logprob()
                    + " against " + a.logprob());
        }
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    @Test
    void requestsOnCachedPagesAgreeWithComputingEverything() throws Exception {
        Gpu.require();
        Random random = new Random(3);
        int vocab = TinyModel.CONFIG.vocabSize();
        int[] stem = random.ints(150, 0, vocab).toArray();
        List<int[]> first = List.of(stem);
        List<int[]> later = new ArrayList<>();
        later.add(stem.clone());                                           // all but the last page
        later.add(concat(stem, random.ints(61, 0, vocab).toArray()));      // the stem, then more
        later.add(concat(Arrays.copyOf(stem, 97), random.ints(5, 0, vocab).toArray()));
        for (int i = 0; i < 5; i++) {                                      // side by side, sharing pages in one step
            later.add(concat(Arrays.copyOf(stem, 40 + 23 * i), random.ints(3 + 11 * i, 0, vocab).toArray()));
        }
        try (Engine cached = engine(true); Engine plain = engine(false)) {
            List<RequestOutput> cachedFirst = submitAll(cached, first, "a").get(0).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            List<RequestOutput> plainFirst = submitAll(plain, first, "a").get(0).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
            assertAgree(plainFirst, cachedFirst, "first");
            List<CompletableFuture<List<RequestOutput>>> got = submitAll(cached, later, "b");
            List<CompletableFuture<List<RequestOutput>>> want = submitAll(plain, later, "b");
            int hits = 0;
            for (int i = 0; i < later.size(); i++) {
                List<RequestOutput> g = got.get(i).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
                assertAgree(want.get(i).get(TIMEOUT.toSeconds(), TimeUnit.SECONDS), g, "prompt " + i);
                hits += g.get(0).cachedPromptTokens() > 0 ? 1 : 0;
            }
            assertEquals(later.size(), hits, "every later prompt starts on the stem's pages");
            assertTrue(cached.stats().prefixCacheHits() > 0);
        }
    }
}
