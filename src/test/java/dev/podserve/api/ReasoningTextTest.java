package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;

import org.junit.jupiter.api.Test;

/** Splitting thinking from answer: hand cases, then random answers streamed in random pieces, which must split as the whole does. */
class ReasoningTextTest {

    private static final long SEED = Long.getLong("seed", System.nanoTime());
    private static final ReasoningFormat THINK = ReasoningFormat.THINK;

    @Test
    void tagsAreDroppedAndAnAnswerWithoutThemIsAllContent() {
        assertThat(ReasoningText.split(THINK, false, "\n<think>\nhmm</think>\n\nYes.")).isEqualTo(new ReasoningText.Split("\nhmm", "Yes."));
        assertThat(ReasoningText.split(THINK, true, "hmm</think>Yes.")).isEqualTo(new ReasoningText.Split("hmm", "Yes."));
        assertThat(ReasoningText.split(THINK, true, "still thinking")).isEqualTo(new ReasoningText.Split("still thinking", ""));
        assertThat(ReasoningText.split(THINK, false, "  Plain <think> answer.")).isEqualTo(new ReasoningText.Split("", "  Plain <think> answer."));
        assertThat(ReasoningText.split(THINK, false, " <thi")).as("a tag cut short is text").isEqualTo(new ReasoningText.Split("", " <thi"));
        assertThat(ReasoningText.split(THINK, true, "a </thin")).isEqualTo(new ReasoningText.Split("a </thin", ""));
        assertThat(ReasoningText.split(THINK, true, "a</think>b</think>c")).as("only the first closes").isEqualTo(new ReasoningText.Split("a", "b</think>c"));
        assertThat(THINK.startsInside("<|im_start|>assistant\n<think>\n")).isTrue();
        assertThat(THINK.startsInside("<|im_start|>assistant\n<think>\n\n</think>\n\n")).isFalse();
        assertThat(THINK.startsInside("<|im_start|>assistant\n")).isFalse();
    }

    @Test
    void anyAnswerStreamedInAnyPiecesSplitsAsTheWholeAnswer() {
        Random rnd = new Random(SEED);
        String[] parts = {"a", " ", "\n", "<", "<think>", "</think>", "</", "<thi", "nk>", "think", ">", "é"};
        for (int a = 0; a < 5000; a++) {
            StringBuilder answer = new StringBuilder();
            for (int k = rnd.nextInt(10); k >= 0; k--) answer.append(parts[rnd.nextInt(parts.length)]);
            String text = answer.toString();
            boolean inside = rnd.nextBoolean();
            ReasoningText.Split whole = ReasoningText.split(THINK, inside, text);
            ReasoningText streamed = new ReasoningText(THINK, inside);
            StringBuilder reasoning = new StringBuilder();
            StringBuilder content = new StringBuilder();
            for (int i = 0; i < text.length(); ) {
                int j = Math.min(text.length(), i + 1 + rnd.nextInt(4));
                ReasoningText.Split s = streamed.feed(text.substring(i, j));
                reasoning.append(s.reasoning());
                content.append(s.content());
                i = j;
            }
            ReasoningText.Split end = streamed.finish();
            String where = "seed " + SEED + ", inside " + inside + ", <" + text + ">";
            assertThat(reasoning + end.reasoning()).as(where).isEqualTo(whole.reasoning());
            assertThat(content + end.content()).as(where).isEqualTo(whole.content());
            if (!inside && !text.strip().startsWith("<think>")) assertThat(whole.content()).as("nothing lost, " + where).isEqualTo(text);
        }
    }
}
