package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.podserve.engine.FinishReason;
import dev.podserve.engine.RequestOutput;

/** How a response counts the prompt tokens its choices found in the prefix cache. */
class CachedTokensUsageTest {

    private static Choices.Event event(int choice, int cached) {
        return new Choices.Event(choice, new RequestOutput("r" + choice, "x", new int[] {1}, List.of(), FinishReason.LENGTH,
                100, 1, null, cached, null));
    }

    @Test
    void eachPromptCountsOnceWithTheFewestAnyOfItsChoicesFound() {
        // Two prompts of three choices each: choice p * 3 + i.
        int[] cached = {64, 32, 48, 0, 16, 16};
        List<Choices.Event> events = new ArrayList<>();
        for (int c = 0; c < cached.length; c++) events.add(event(c, cached[c]));
        ChoiceResults results = ChoiceResults.of(cached.length, null, events);
        assertThat(results.cachedPromptTokens(3)).isEqualTo(32 + 0);
        // Read as six prompts of one choice, every choice counts.
        assertThat(results.cachedPromptTokens(1)).isEqualTo(176);
        assertThat(results.cachedPromptTokens(6)).isZero();
    }
}
