package dev.podserve.backend.cpu;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import dev.podserve.attention.HybridBatch;

/**
 * A stand-in for the scheduler in tests: tracks each request's cached length and pages, hands out
 * pages from a shuffled free list (so a backend that ignores the page table reads the wrong slots),
 * and builds {@link HybridBatch}es from "this request gets these tokens this step" entries.
 */
final class PagedRequests {

    private final int pageSize;
    private final Deque<Integer> free = new ArrayDeque<>();
    private final Map<Integer, List<Integer>> pages = new HashMap<>();
    private final Map<Integer, Integer> lengths = new HashMap<>();

    PagedRequests(int numBlocks, int pageSize, Random rnd) {
        this.pageSize = pageSize;
        List<Integer> ids = new ArrayList<>();
        for (int i = 0; i < numBlocks; i++) ids.add(i);
        Collections.shuffle(ids, rnd);
        free.addAll(ids);
    }

    int length(int request) {
        return lengths.getOrDefault(request, 0);
    }

    void release(int request) {
        free.addAll(pages.getOrDefault(request, List.of()));
        pages.remove(request);
        lengths.remove(request);
    }

    Step step() {
        return new Step();
    }

    /** One step under construction. Entries may be added in any order; prefills go first in the batch. */
    final class Step {
        private record Entry(int request, int[] tokens, boolean decode, boolean sample) {
        }

        private final List<Entry> entries = new ArrayList<>();
        /** Request id of each batch request index, valid after {@link #build()}. */
        final List<Integer> order = new ArrayList<>();
        /** Request ids of the sampled requests, in {@code sampleRequests} order. */
        final List<Integer> sampled = new ArrayList<>();

        Step prefill(int request, int[] tokens, boolean sample) {
            entries.add(new Entry(request, tokens, false, sample));
            return this;
        }

        Step decode(int request, int token, boolean sample) {
            entries.add(new Entry(request, new int[] {token}, true, sample));
            return this;
        }

        /** Assigns pages for the new tokens, records the new lengths, and returns the batch. */
        HybridBatch build() {
            List<Entry> sorted = new ArrayList<>();
            entries.stream().filter(e -> !e.decode).forEach(sorted::add);
            entries.stream().filter(e -> e.decode).forEach(sorted::add);
            int r = sorted.size();
            int numPrefill = (int) entries.stream().filter(e -> !e.decode).count();
            List<Integer> tokens = new ArrayList<>();
            List<Integer> positions = new ArrayList<>();
            List<Integer> pageList = new ArrayList<>();
            int[] qo = new int[r + 1];
            int[] kv = new int[r + 1];
            int[] last = new int[r];
            List<Integer> samples = new ArrayList<>();
            for (int i = 0; i < r; i++) {
                Entry e = sorted.get(i);
                int start = length(e.request);
                int end = start + e.tokens.length;
                List<Integer> own = pages.computeIfAbsent(e.request, k -> new ArrayList<>());
                while (own.size() * pageSize < end) {
                    if (free.isEmpty()) throw new IllegalStateException("test ran out of KV pages");
                    own.add(free.poll());
                }
                for (int j = 0; j < e.tokens.length; j++) {
                    tokens.add(e.tokens[j]);
                    positions.add(start + j);
                }
                pageList.addAll(own);
                qo[i + 1] = tokens.size();
                kv[i + 1] = pageList.size();
                last[i] = end - (own.size() - 1) * pageSize;
                lengths.put(e.request, end);
                order.add(e.request);
                if (e.sample) {
                    samples.add(i);
                    sampled.add(e.request);
                }
            }
            return new HybridBatch(ints(tokens), ints(positions), qo, kv, ints(pageList), last, ints(samples),
                    numPrefill, r - numPrefill, pageSize);
        }
    }

    private static int[] ints(List<Integer> list) {
        return list.stream().mapToInt(Integer::intValue).toArray();
    }
}
