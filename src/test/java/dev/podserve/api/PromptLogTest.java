package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.springframework.boot.test.system.CapturedOutput;
import org.springframework.boot.test.system.OutputCaptureExtension;

import dev.podserve.engine.FinishReason;
import dev.podserve.engine.RequestOutput;

import reactor.core.publisher.Flux;

/** podserve.security.log-prompts: off, a prompt and its output leave no trace; on, both are logged. */
@ExtendWith(OutputCaptureExtension.class)
class PromptLogTest {

    private static Flux<Choices.Event> outputs() {
        return Flux.just(new Choices.Event(0, new RequestOutput("r", "the-output-text", new int[] {1}, List.of(),
                FinishReason.LENGTH, 3, 1)));
    }

    @Test
    void offLogsNothing(CapturedOutput out) {
        new PromptLog(false).tap("cmpl-1", List.of("the-prompt-text"), 1, outputs()).blockLast();
        assertThat(out.getAll()).doesNotContain("the-prompt-text").doesNotContain("the-output-text");
    }

    @Test
    void onLogsPromptAndOutput(CapturedOutput out) {
        new PromptLog(true).tap("cmpl-2", List.of("the-prompt-text"), 1, outputs()).blockLast();
        assertThat(out.getAll()).contains("cmpl-2 prompt 0: the-prompt-text").contains("the-output-text");
    }
}
