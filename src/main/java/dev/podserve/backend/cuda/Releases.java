package dev.podserve.backend.cuda;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * Native resources released in the reverse of the order they were taken, each whatever the others
 * do. After a kernel fault the context's error is sticky and the first release may throw; one
 * failing release must not leave the rest (device memory, pinned host memory, the context) held.
 * The first failure is rethrown at the end, the later ones attached to it.
 */
final class Releases {

    private final Deque<Runnable> taken = new ArrayDeque<>();

    /** Records a release for what was just taken. */
    void add(Runnable release) {
        taken.push(release);
    }

    /** Runs every release, newest first, once; then throws the first failure, if any. */
    void releaseAll() {
        RuntimeException first = null;
        while (!taken.isEmpty()) {
            try {
                taken.pop().run();
            } catch (RuntimeException e) {
                if (first == null) first = e;
                else first.addSuppressed(e);
            }
        }
        if (first != null) throw first;
    }

    /** As {@link #releaseAll}, for a constructor that already failed with {@code cause}: failures join it. */
    void releaseAllAfter(Throwable cause) {
        try {
            releaseAll();
        } catch (RuntimeException e) {
            cause.addSuppressed(e);
        }
    }
}
