package dev.podserve.engine;

import java.util.Arrays;
import java.util.List;

/** A request's outputs taken together, for the engine tests. */
final class RequestOutputs {

    private RequestOutputs() {
    }

    /** The text of every output, in order. */
    static String text(List<RequestOutput> outputs) {
        StringBuilder b = new StringBuilder();
        outputs.forEach(o -> b.append(o.text()));
        return b.toString();
    }

    /** The token ids of every output, in order. */
    static int[] tokens(List<RequestOutput> outputs) {
        return outputs.stream().flatMapToInt(o -> Arrays.stream(o.tokenIds())).toArray();
    }
}
