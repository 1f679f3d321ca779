package dev.podserve.kvcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.podserve.kvcache.KvCacheManager.CachedPrefix;

import java.util.Arrays;
import java.util.Random;
import java.util.function.IntUnaryOperator;

import org.junit.jupiter.api.Test;

/** Prefix caching in the KV manager and its pool: registration, lookup, sharing, idling, eviction. */
class PrefixCacheTest {

    private static IntUnaryOperator tokens(int... ids) {
        return i -> ids[i];
    }

    private static int[] range(int from, int count) {
        int[] out = new int[count];
        for (int i = 0; i < count; i++) {
            out[i] = from + i;
        }
        return out;
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** Allocates and "computes" a request's tokens, then registers its full pages. */
    private static void compute(KvCacheManager kv, String id, int[] ids) {
        assertThat(kv.allocateSlots(id, ids.length)).isTrue();
        kv.cacheFullPages(id, new PrefixHashes(null), tokens(ids), ids.length);
    }

    @Test
    void aPromptFindsTheFullPagesOfAnEarlierOneThatStartsTheSame() {
        KvCacheManager kv = new KvCacheManager(16, 4, true);
        int[] a = range(100, 10);                     // pages [100..103] [104..107], then 2 in a partial page
        compute(kv, "a", a);
        int[] b = concat(range(100, 8), range(500, 5));  // same two pages, then its own
        CachedPrefix hit = kv.findCachedPrefix(new PrefixHashes(null), tokens(b), b.length - 1);
        assertThat(hit.numBlocks()).isEqualTo(2);
        assertThat(hit.blocks()).containsExactly(kv.blocks("a")[0], kv.blocks("a")[1]);
        assertThat(hit.numIdle()).isZero();

        int free = kv.numFreeBlocks();
        assertThat(kv.adoptCachedPrefix("b", hit)).isEqualTo(8);
        assertThat(kv.numFreeBlocks()).as("held pages cost nothing to share").isEqualTo(free);
        assertThat(kv.holdersOf(hit.blocks()[0])).isEqualTo(2);
        assertThat(kv.allocateSlots("b", b.length)).isTrue();
        assertThat(kv.blocks("b")).startsWith(hit.blocks()).hasSize(4);
        assertThat(kv.holdersOf(kv.blocks("b")[2])).isEqualTo(1);
    }

    @Test
    void theChainMakesAPageDependOnEveryTokenBeforeIt() {
        KvCacheManager kv = new KvCacheManager(16, 4, true);
        compute(kv, "a", range(0, 12));
        // Page 1 and 2 of b hold a's tokens, but page 0 differs: nothing is shared.
        int[] b = range(0, 12);
        b[0] = 999;
        assertThat(kv.findCachedPrefix(new PrefixHashes(null), tokens(b), 12).numBlocks()).isZero();
        // A difference in page 1 keeps page 0 only.
        int[] c = range(0, 12);
        c[5] = 999;
        assertThat(kv.findCachedPrefix(new PrefixHashes(null), tokens(c), 12).numBlocks()).isEqualTo(1);
        // maxTokens caps the pages: 11 tokens cover two whole pages of three.
        assertThat(kv.findCachedPrefix(new PrefixHashes(null), tokens(range(0, 12)), 11).numBlocks()).isEqualTo(2);
        assertThat(kv.findCachedPrefix(new PrefixHashes(null), tokens(range(0, 12)), 3).numBlocks()).isZero();
    }

    @Test
    void onlyComputedFullPagesAreRegistered() {
        KvCacheManager kv = new KvCacheManager(16, 4, true);
        int[] a = range(0, 12);
        assertThat(kv.allocateSlots("a", 12)).isTrue();
        PrefixHashes chain = new PrefixHashes(null);
        kv.cacheFullPages("a", chain, tokens(a), 7);   // page 0 full, page 1 not yet
        assertThat(kv.findCachedPrefix(new PrefixHashes(null), tokens(a), 12).numBlocks()).isEqualTo(1);
        kv.cacheFullPages("a", chain, tokens(a), 12);
        assertThat(kv.findCachedPrefix(new PrefixHashes(null), tokens(a), 12).numBlocks()).isEqualTo(3);
        kv.cacheFullPages("a", chain, tokens(a), 12);  // again: nothing changes, nothing fails
        assertThat(kv.findCachedPrefix(new PrefixHashes(null), tokens(a), 12).numBlocks()).isEqualTo(3);
    }

    @Test
    void givenBackPagesStayFindableUntilThePoolNeedsThemAndGoFromTheEndOfAPrefix() {
        KvCacheManager kv = new KvCacheManager(6, 4, true);
        int[] a = range(0, 16);
        compute(kv, "a", a);
        int[] pages = kv.blocks("a");
        kv.free("a");
        assertThat(kv.numFreeBlocks()).isEqualTo(6);
        assertThat(kv.numIdleBlocks()).isEqualTo(4);
        CachedPrefix idle = kv.findCachedPrefix(new PrefixHashes(null), tokens(a), 16);
        assertThat(idle.numBlocks()).isEqualTo(4);
        assertThat(idle.numIdle()).isEqualTo(4);

        // Two never-registered pages are used first; the third allocation takes a's last page.
        assertThat(kv.allocateSlots("x", 8)).isTrue();
        assertThat(kv.numIdleBlocks()).isEqualTo(4);
        assertThat(kv.allocateSlots("x", 12)).isTrue();
        assertThat(kv.blocks("x")[2]).isEqualTo(pages[3]);
        assertThat(kv.numEvictions()).isEqualTo(1);
        assertThat(kv.findCachedPrefix(new PrefixHashes(null), tokens(a), 16).numBlocks()).isEqualTo(3);

        // Adopting idle pages takes them out of the free ones, and they are no longer evictable.
        CachedPrefix three = kv.findCachedPrefix(new PrefixHashes(null), tokens(a), 16);
        assertThat(three.numIdle()).isEqualTo(3);
        kv.adoptCachedPrefix("a2", three);
        assertThat(kv.numFreeBlocks()).isZero();
        assertThat(kv.allocateSlots("y", 1)).isFalse();
        kv.free("a2");
        kv.free("x");
        assertThat(kv.numFreeBlocks()).isEqualTo(6);
        assertThat(kv.numRequestsWithBlocks()).isZero();
    }

    @Test
    void twoComputationsOfTheSameContentsRegisterOnlyOnceAndBothFreeCleanly() {
        KvCacheManager kv = new KvCacheManager(8, 4, true);
        int[] a = range(0, 8);
        compute(kv, "a", a);
        compute(kv, "b", a);                            // computed beside a, before it could share
        assertThat(kv.findCachedPrefix(new PrefixHashes(null), tokens(a), 8).blocks()).containsExactly(kv.blocks("a"));
        kv.free("b");
        assertThat(kv.numIdleBlocks()).isZero();
        kv.free("a");
        assertThat(kv.numIdleBlocks()).isEqualTo(2);
        assertThat(kv.numFreeBlocks()).isEqualTo(8);
    }

    @Test
    void withoutPrefixCachingNothingIsFoundOrRegistered() {
        KvCacheManager kv = new KvCacheManager(8, 4);
        compute(kv, "a", range(0, 8));
        assertThat(kv.findCachedPrefix(new PrefixHashes(null), tokens(range(0, 8)), 8)).isSameAs(CachedPrefix.NONE);
        kv.free("a");
        assertThat(kv.numIdleBlocks()).isZero();
        assertThat(kv.adoptCachedPrefix("b", CachedPrefix.NONE)).isZero();
        assertThat(kv.numRequestsWithBlocks()).isZero();
    }

    @Test
    void adoptingIntoARequestThatHoldsPagesIsRefused() {
        KvCacheManager kv = new KvCacheManager(8, 4, true);
        compute(kv, "a", range(0, 8));
        CachedPrefix hit = kv.findCachedPrefix(new PrefixHashes(null), tokens(range(0, 8)), 8);
        assertThatThrownBy(() -> kv.adoptCachedPrefix("a", hit)).isInstanceOf(IllegalStateException.class);
    }

    @Test
    void poolReferenceCountsAgainstAPlainModel() {
        // Random allocate / retain / free / register against counts kept here.
        Random random = new Random(42);
        BlockPool pool = new BlockPool(24);
        int[] refs = new int[24];
        boolean[] registered = new boolean[24];
        long nextHash = 1;
        for (int step = 0; step < 20_000; step++) {
            int op = random.nextInt(4);
            int block = random.nextInt(24);
            if (op == 0 && pool.canAllocate(1)) {
                int got = pool.allocate(1)[0];
                assertThat(refs[got]).as("handed out a held page").isZero();
                if (registered[got]) {
                    registered[got] = false;          // evicted
                }
                refs[got] = 1;
            } else if (op == 1 && refs[block] > 0) {
                pool.free(block);
                refs[block]--;
            } else if (op == 2 && registered[block]) {
                pool.retain(block);
                refs[block]++;
            } else if (op == 3 && refs[block] > 0 && !registered[block]) {
                assertThat(pool.register(block, new BlockHash(nextHash++, 7))).isTrue();
                registered[block] = true;
            }
            int held = 0;
            int idle = 0;
            for (int b = 0; b < 24; b++) {
                assertThat(pool.refCount(b)).isEqualTo(refs[b]);
                held += refs[b] > 0 ? 1 : 0;
                idle += refs[b] == 0 && registered[b] ? 1 : 0;
            }
            assertThat(pool.numUsed()).isEqualTo(held);
            assertThat(pool.numIdle()).isEqualTo(idle);
            assertThat(pool.numFree()).isEqualTo(24 - held);
        }
    }

    @Test
    void aPageHeldTwiceAndFreedTwiceInOneCallIsParkedOnce() {
        BlockPool pool = new BlockPool(2);
        int page = pool.allocate(1)[0];
        pool.register(page, new BlockHash(1, 2));
        pool.retain(page);
        pool.free(page, page);
        assertThat(pool.numIdle()).isEqualTo(1);
        assertThat(pool.numFree()).isEqualTo(2);
        assertThatThrownBy(() -> pool.free(page)).hasMessageContaining("double free");
        assertThat(pool.allocate(2)).containsExactlyInAnyOrder(0, 1);
    }
}
