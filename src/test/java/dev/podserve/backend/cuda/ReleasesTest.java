package dev.podserve.backend.cuda;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class ReleasesTest {

    @Test
    void everyReleaseRunsNewestFirstOnceAndTheFirstFailureIsThrown() {
        List<String> ran = new ArrayList<>();
        Releases r = new Releases();
        r.add(() -> ran.add("context"));
        r.add(() -> {
            ran.add("arena");
            throw new IllegalStateException("sticky error");
        });
        r.add(() -> ran.add("graphs"));
        r.add(() -> {
            ran.add("events");
            throw new IllegalArgumentException("second");
        });
        assertThatThrownBy(r::releaseAll).isInstanceOf(IllegalArgumentException.class)
                .satisfies(e -> assertThat(e.getSuppressed()).singleElement().isInstanceOf(IllegalStateException.class));
        assertThat(ran).containsExactly("events", "graphs", "arena", "context");
        r.releaseAll();
        assertThat(ran).hasSize(4);
    }

    @Test
    void afterAFailedConstructorTheReleasesJoinItsFailure() {
        Releases r = new Releases();
        List<String> ran = new ArrayList<>();
        r.add(() -> ran.add("module"));
        r.add(() -> {
            throw new IllegalStateException("cannot free");
        });
        RuntimeException cause = new RuntimeException("out of memory");
        r.releaseAllAfter(cause);
        assertThat(ran).containsExactly("module");
        assertThat(cause.getSuppressed()).hasSize(1);
        assertThat(cause.getSuppressed()[0]).hasMessage("cannot free");
    }
}
