package dev.podserve.backend.cpu;

/**
 * The paged KV storage of every layer. A slot is one token position of one page
 * ({@code slot = page * pageSize + offset}); within a layer, K and V are each
 * {@code [numBlocks * pageSize][kvDim]} row-major, a row being the token's KV heads concatenated
 * ({@code slot * kvDim + kvHead * headDim + d}).
 */
final class KvCache {

    /** [layer] -> [slots][kvDim]: keys after RoPE. */
    final float[][] keys;
    /** [layer] -> [slots][kvDim]: values. */
    final float[][] values;
    final int slots;

    /** Most blocks one layer's cache can hold: each layer's keys (and values) are one Java array. */
    static int maxBlocks(int pageSize, int kvDim) {
        return (int) Math.min(Integer.MAX_VALUE, (Integer.MAX_VALUE - 8L) / ((long) pageSize * kvDim));
    }

    KvCache(int numLayers, int numBlocks, int pageSize, int kvDim) {
        long floats = (long) numBlocks * pageSize * kvDim;
        if (numBlocks < 1 || pageSize < 1) {
            throw new IllegalArgumentException("KV cache needs at least one block of at least one slot");
        }
        if (numBlocks > maxBlocks(pageSize, kvDim)) {
            throw new IllegalArgumentException(numBlocks + " KV blocks of " + pageSize + " tokens x " + kvDim
                    + " floats exceed one Java array per layer; use fewer blocks");
        }
        this.slots = numBlocks * pageSize;
        // (floats fits an int: checked above)
        this.keys = new float[numLayers][(int) floats];
        this.values = new float[numLayers][(int) floats];
    }

    /** Writes one token's K and V rows (each kvDim floats) into {@code slot} of {@code layer}. */
    void append(int layer, int slot, int kvDim, float[] src, int kOff, int vOff) {
        System.arraycopy(src, kOff, keys[layer], slot * kvDim, kvDim);
        System.arraycopy(src, vOff, values[layer], slot * kvDim, kvDim);
    }
}
