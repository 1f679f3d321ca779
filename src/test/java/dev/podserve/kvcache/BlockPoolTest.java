package dev.podserve.kvcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.Test;

class BlockPoolTest {

    @Test
    void handsOutDistinctIdsInRangeUntilEmpty() {
        BlockPool pool = new BlockPool(10);
        Set<Integer> seen = new HashSet<>();
        for (int n : new int[] {3, 0, 4, 3}) {
            for (int b : pool.allocate(n)) {
                assertThat(b).isBetween(0, 9);
                assertThat(seen.add(b)).as("block %d handed out twice", b).isTrue();
                assertThat(pool.isAllocated(b)).isTrue();
            }
        }
        assertThat(pool.numFree()).isZero();
        assertThat(pool.numUsed()).isEqualTo(10);
        assertThat(pool.usage()).isEqualTo(1.0);
    }

    @Test
    void allocationIsAllOrNothing() {
        BlockPool pool = new BlockPool(5);
        pool.allocate(3);
        assertThat(pool.canAllocate(3)).isFalse();
        assertThatThrownBy(() -> pool.allocate(3)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("only 2 free");
        assertThat(pool.numFree()).isEqualTo(2);
        assertThat(pool.allocate(2)).hasSize(2);
        assertThat(pool.numFree()).isZero();
    }

    @Test
    void freedBlocksComeBackAndAreReused() {
        BlockPool pool = new BlockPool(4);
        int[] a = pool.allocate(2);
        int[] b = pool.allocate(2);
        pool.free(a);
        assertThat(pool.numFree()).isEqualTo(2);
        assertThat(pool.usage()).isEqualTo(0.5);
        assertThat(pool.allocate(2)).containsExactlyInAnyOrder(a);
        pool.free(b);
        assertThat(pool.isAllocated(b[0])).isFalse();
    }

    @Test
    void doubleFreeForeignIdsAndRepeatsAreRefusedWithoutFreeingAnything() {
        BlockPool pool = new BlockPool(4);
        int[] a = pool.allocate(3);
        pool.free(a[0]);
        assertThatThrownBy(() -> pool.free(a[0])).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("double free");
        assertThatThrownBy(() -> pool.free(a[1], a[0])).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> pool.free(a[1], a[1])).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> pool.free(a[2], 4)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("not in this pool");
        assertThatThrownBy(() -> pool.free(-1)).isInstanceOf(IllegalStateException.class);
        // Every refused call left a[1] and a[2] allocated.
        assertThat(pool.numFree()).isEqualTo(2);
        assertThat(pool.isAllocated(a[1])).isTrue();
        assertThat(pool.isAllocated(a[2])).isTrue();
        pool.free(a[1], a[2]);
        assertThat(pool.numFree()).isEqualTo(4);
    }

    @Test
    void rejectsNonsenseSizes() {
        assertThatThrownBy(() -> new BlockPool(0)).isInstanceOf(IllegalArgumentException.class);
        BlockPool pool = new BlockPool(1);
        assertThatThrownBy(() -> pool.allocate(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThat(pool.allocate(0)).isEmpty();
        assertThat(pool.usage()).isZero();
    }
}
