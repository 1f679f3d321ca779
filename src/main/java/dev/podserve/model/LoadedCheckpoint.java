package dev.podserve.model;

import java.nio.file.Path;

/**
 * Weights read from a checkpoint, with what startup reports about the read.
 *
 * @param source            {@code model.safetensors}, or the index of a sharded checkpoint
 * @param dtype             element type of the weights on disk, e.g. {@code BF16}; mixed types are joined
 *                          with {@code +}, most bytes first
 * @param bytesRead         checkpoint bytes converted (weights only, not ignored tensors or headers)
 * @param seconds           the whole load: open, allocate, convert
 * @param allocationSeconds of which allocating (and so zeroing) the fp32 arrays
 */
public record LoadedCheckpoint(ModelWeights weights, Path source, int files, int tensors, String dtype, long bytesRead,
                               double seconds, double allocationSeconds) {

    public double megabytesPerSecond() {
        return seconds > 0 ? bytesRead / 1e6 / seconds : 0;
    }
}
