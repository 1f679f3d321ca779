package dev.podserve.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class SequenceTest {

    @Test
    void holdsPromptThenOutput() {
        int[] prompt = {5, 6, 7};
        Sequence s = new Sequence("r", prompt, 42L);
        prompt[0] = 0;
        assertThat(s.requestId()).isEqualTo("r");
        assertThat(s.arrivalNanos()).isEqualTo(42L);
        assertThat(s.promptTokenIds()).containsExactly(5, 6, 7);
        assertThat(s.numPromptTokens()).isEqualTo(3);
        assertThat(s.lastToken()).isEqualTo(7);
        for (int i = 0; i < 40; i++) {
            s.appendToken(100 + i);
        }
        assertThat(s.numTokens()).isEqualTo(43);
        assertThat(s.numOutputTokens()).isEqualTo(40);
        assertThat(s.tokenAt(2)).isEqualTo(7);
        assertThat(s.tokenAt(3)).isEqualTo(100);
        assertThat(s.lastToken()).isEqualTo(139);
        assertThat(s.outputTokenIds()).hasSize(40).startsWith(100, 101).endsWith(139);
        s.outputTokenIds()[0] = -1;
        assertThat(s.tokenAt(3)).isEqualTo(100);
        assertThatThrownBy(() -> s.tokenAt(43)).isInstanceOf(IndexOutOfBoundsException.class);
    }

    @Test
    void startsWaitingWithNothingComputed() {
        Sequence s = new Sequence("r", new int[] {1});
        assertThat(s.status()).isEqualTo(SequenceStatus.WAITING);
        assertThat(s.numComputedTokens()).isZero();
        assertThat(s.numPreemptions()).isZero();
        assertThat(s.isFinished()).isFalse();
    }

    @Test
    void rejectsAnEmptyPromptOrNoId() {
        assertThatThrownBy(() -> new Sequence("r", new int[0])).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("empty prompt");
        assertThatThrownBy(() -> new Sequence(null, new int[] {1})).isInstanceOf(NullPointerException.class);
    }
}
