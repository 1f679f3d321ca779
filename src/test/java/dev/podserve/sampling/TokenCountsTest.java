package dev.podserve.sampling;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

class TokenCountsTest {

    @Test
    void agreesWithAHashMapThroughManyResizes() {
        TokenCounts counts = new TokenCounts();
        Map<Integer, Integer> expected = new HashMap<>();
        Random r = new Random(3);
        for (int i = 0; i < 50_000; i++) {
            // Mix of a dense low range (collisions on consecutive ids) and sparse large ids.
            int token = i % 5 == 0 ? r.nextInt(128256) : r.nextInt(300);
            counts.increment(token);
            expected.merge(token, 1, Integer::sum);
        }
        assertThat(counts.distinct()).isEqualTo(expected.size());
        Map<Integer, Integer> visited = new HashMap<>();
        counts.forEach(visited::put);
        assertThat(visited).isEqualTo(expected);
        assertThat(counts.count(128256)).isZero();
        assertThat(counts.count(0)).isEqualTo(expected.getOrDefault(0, 0));
    }
}
