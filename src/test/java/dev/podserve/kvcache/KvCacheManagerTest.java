package dev.podserve.kvcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class KvCacheManagerTest {

    @ParameterizedTest(name = "block size {0}: {1} tokens need {2} blocks")
    @CsvSource({
            "1, 0, 0", "1, 1, 1", "1, 2, 2", "1, 17, 17",
            "16, 0, 0", "16, 1, 1", "16, 15, 1", "16, 16, 1", "16, 17, 2", "16, 32, 2", "16, 33, 3",
            "16, 2147483647, 134217728", "1, 2147483647, 2147483647",
    })
    void blocksNeededRoundsUp(int blockSize, int tokens, int blocks) {
        assertThat(new KvCacheManager(4, blockSize).blocksNeeded(tokens)).isEqualTo(blocks);
    }

    @Test
    void allocatesOnlyTheMissingBlocksAndNeverShrinks() {
        KvCacheManager kv = new KvCacheManager(10, 4);
        assertThat(kv.allocateSlots("a", 5)).isTrue();
        int[] first = kv.blocks("a");
        assertThat(first).hasSize(2);
        assertThat(kv.allocateSlots("a", 8)).isTrue();
        assertThat(kv.blocks("a")).containsExactly(first);
        assertThat(kv.allocateSlots("a", 9)).isTrue();
        assertThat(kv.blocks("a")).hasSize(3).startsWith(first);
        assertThat(kv.allocateSlots("a", 1)).isTrue();
        assertThat(kv.numBlocksOf("a")).isEqualTo(3);
        assertThat(kv.numFreeBlocks()).isEqualTo(7);
        assertThat(kv.usage()).isEqualTo(0.3);
    }

    @Test
    void failedAllocationTakesNothing() {
        KvCacheManager kv = new KvCacheManager(4, 2);
        assertThat(kv.allocateSlots("a", 4)).isTrue();
        assertThat(kv.canAllocate("b", 6)).isFalse();
        assertThat(kv.numMissingBlocks("b", 6)).isEqualTo(3);
        assertThat(kv.allocateSlots("b", 6)).isFalse();
        assertThat(kv.numBlocksOf("b")).isZero();
        assertThat(kv.numFreeBlocks()).isEqualTo(2);
        assertThat(kv.allocateSlots("a", 10)).isFalse();
        assertThat(kv.numBlocksOf("a")).isEqualTo(2);
        assertThat(kv.numRequestsWithBlocks()).isEqualTo(1);
        assertThat(kv.canAllocate("b", 4)).isTrue();
    }

    @Test
    void requestsOwnDisjointBlocksAndFreeReturnsThemAll() {
        KvCacheManager kv = new KvCacheManager(12, 16);
        kv.allocateSlots("a", 40);
        kv.allocateSlots("b", 1);
        kv.allocateSlots("c", 64);
        Set<Integer> all = new HashSet<>();
        for (String id : new String[] {"a", "b", "c"}) {
            for (int block : kv.blocks(id)) {
                assertThat(all.add(block)).isTrue();
            }
        }
        assertThat(all).hasSize(8);
        assertThat(kv.numRequestsWithBlocks()).isEqualTo(3);
        kv.free("a");
        kv.free("a");
        kv.free("never");
        assertThat(kv.blocks("a")).isEmpty();
        assertThat(kv.numFreeBlocks()).isEqualTo(7);
        kv.free("b");
        kv.free("c");
        assertThat(kv.numFreeBlocks()).isEqualTo(kv.numBlocks());
        assertThat(kv.numRequestsWithBlocks()).isZero();
    }

    @Test
    void zeroTokensNeedNoBlocksAndCreateNoEntry() {
        KvCacheManager kv = new KvCacheManager(2, 4);
        assertThat(kv.allocateSlots("a", 0)).isTrue();
        assertThat(kv.numRequestsWithBlocks()).isZero();
    }

    @Test
    void blockListsAreCopies() {
        KvCacheManager kv = new KvCacheManager(8, 1);
        kv.allocateSlots("a", 3);
        int[] blocks = kv.blocks("a");
        blocks[0] = 99;
        assertThat(kv.blocks("a")[0]).isNotEqualTo(99);
        int[] dest = new int[5];
        kv.copyBlocks("a", 2, dest, 1);
        assertThat(dest).containsExactly(0, kv.blocks("a")[0], kv.blocks("a")[1], 0, 0);
        assertThatThrownBy(() -> kv.copyBlocks("a", 4, dest, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> kv.copyBlocks("none", 1, dest, 0)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void rejectsNonsense() {
        assertThatThrownBy(() -> new KvCacheManager(4, 0)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new KvCacheManager(0, 16)).isInstanceOf(IllegalArgumentException.class);
        KvCacheManager kv = new KvCacheManager(4, 16);
        assertThatThrownBy(() -> kv.blocksNeeded(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThat(kv.capacityTokens()).isEqualTo(64);
        assertThat(new KvCacheManager(3_000_000, 1024).capacityTokens()).isEqualTo(Integer.MAX_VALUE);
    }
}
