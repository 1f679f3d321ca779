package dev.podserve.sampling;

/**
 * One step's draw for a request whose token can be picked where the logits are (a GPU), as the
 * numbers of the host's rule: a request sampled at a temperature, with any of top-k, top-p and min-p,
 * no log-probabilities, and a logits processing that only bans tokens. The device then does what
 * {@link Sampler#sample} would: ban, temper, truncate, and walk the weights (in id order, or best
 * first when top-k or top-p ranked them) to {@code uniform} times their sum.
 *
 * <p>The request's uniform number for this step is already taken from its generator, so whichever
 * side draws, the request consumes exactly one number a step: a row the device hands back goes to
 * {@link Sampler#sample(float[], SamplingState, double)} with this same number.
 *
 * @param inverseTemperature 1 / temperature, computed as the host computes it
 * @param minP               0 when off
 * @param topK               0 when off (as is a top-k of the vocabulary or more)
 * @param topP               1 when off
 * @param uniform            in [0, 1)
 * @param banned             token ids this step bans (EOS and stop ids below min_tokens, the ids bad_words ban
 *                           here), at most {@link Sampler#MAX_DEVICE_BANNED}
 */
public record DeviceDraw(double inverseTemperature, double minP, int topK, double topP, double uniform, int[] banned) {

    /** Whether this step bans {@code token} (it is one of {@link #banned}). */
    public boolean bans(int token) {
        for (int id : banned) {
            if (id == token) return true;
        }
        return false;
    }
}
