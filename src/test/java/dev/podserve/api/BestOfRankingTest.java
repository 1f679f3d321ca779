package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;

import org.junit.jupiter.api.Test;

import dev.podserve.api.dto.CompletionResponse;
import dev.podserve.engine.FinishReason;
import dev.podserve.engine.RequestOutput;
import dev.podserve.engine.ServingModel;
import dev.podserve.engine.TokenLogprob;

import reactor.core.publisher.Flux;

/** best_of's ranking on given candidates: log-probability per token, and a candidate with no token last. */
class BestOfRankingTest {

    private static final ServingModel MODEL = new ServingModel("m", "m", null, null, null, null, null, "test", 0);

    private static Choices.Event candidate(int index, String text, float... logprobs) {
        List<TokenLogprob> lps = new java.util.ArrayList<>();
        for (float lp : logprobs) lps.add(new TokenLogprob(1, lp, new int[0], new float[0]));
        FinishReason finish = logprobs.length == 0 ? FinishReason.ABORT : FinishReason.LENGTH;
        return new Choices.Event(index, new RequestOutput("r-" + index, text, new int[logprobs.length], lps, finish, 3,
                logprobs.length));
    }

    @Test
    void theLikeliestPerTokenWinAndAnEmptyCandidateComesLast() {
        List<Choices.Choice> choices = List.of(new Choices.Choice(0, 0, null), new Choices.Choice(1, 0, null),
                new Choices.Choice(2, 0, null));
        Flux<Choices.Event> events = Flux.just(
                candidate(0, "long but unlikely", -0.9f, -0.9f, -0.9f, -0.9f),
                candidate(1, ""),                       // cut off before its first token
                candidate(2, "likely", -0.2f, -0.4f));
        CompletionResponse r = CompletionResponses.collectBest(new CompletionResponses.Meta("c", 1, MODEL, 3, null, null, null),
                choices, events, 2).block();
        assertThat(r.choices()).extracting(CompletionResponse.Choice::text).containsExactly("likely", "long but unlikely");
        assertThat(r.choices()).extracting(CompletionResponse.Choice::index).containsExactly(0, 1);
        assertThat(r.usage().completionTokens()).isEqualTo(6);
    }
}
