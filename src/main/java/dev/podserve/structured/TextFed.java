package dev.podserve.structured;

/** A rule that can take output as bytes that did not come as whole tokens (the rest of a token after a tag). */
interface TextFed {

    /** @return false, with the state as it was, where the rule refuses a byte */
    boolean acceptText(byte[] bytes, int from, int to);
}
