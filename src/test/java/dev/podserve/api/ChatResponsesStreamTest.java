package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import dev.podserve.api.dto.ChatCompletionResponse;
import dev.podserve.engine.FinishReason;
import dev.podserve.engine.RequestOutput;
import dev.podserve.engine.ServingModel;

import reactor.core.publisher.Flux;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * A chat answer streamed and the same answer whole must say the same thing: random answers of a
 * reasoning model that may call tools in its own format, cut into random outputs, through
 * {@link ChatResponses#stream} and {@link ChatResponses#collect}. The stream's thinking, content,
 * calls and finish reason, put together as a client's accumulator does, must equal the message.
 */
class ChatResponsesStreamTest {

    private static final long SEED = Long.getLong("seed", System.nanoTime());
    private static final ServingModel MODEL = new ServingModel("m", "m", null, null, null, null, null, "test", 0);
    private static final ObjectMapper JSON = JsonMapper.builder().build();
    private static final String[] PARTS = {"Hi", " ", "\n", "<think>", "</think>", "<tool_call>", "</tool_call>", "<tool", "{",
            "{\"name\": \"f\", \"arguments\": {\"x\": \"}\"}}", "{\"name\": \"g\", \"arguments\": {}}", "\"", "}", "\t"};

    @Test
    void streamedAndWholeAnswersAgree() {
        Random rnd = new Random(SEED);
        ToolChoices.Plan auto = new ToolChoices.Plan(ToolChoices.Mode.AUTO, List.of(), null, null, ToolCallFormat.HERMES);
        int withCalls = 0;
        for (int a = 0; a < 1500; a++) {
            StringBuilder answer = new StringBuilder();
            if (rnd.nextInt(3) == 0) {
                // The usual shape: maybe thinking, blanks, calls between blanks, maybe a word.
                if (rnd.nextBoolean()) answer.append("<think>Hm.</think>");
                for (int k = rnd.nextInt(3); k >= 0; k--) {
                    answer.append(rnd.nextBoolean() ? "\n" : "").append("<tool_call>").append(PARTS[9 + rnd.nextInt(2)]).append("</tool_call>");
                }
                answer.append(rnd.nextBoolean() ? "\n" : rnd.nextBoolean() ? " Done." : "");
            }
            for (int k = rnd.nextInt(10); k >= 0; k--) answer.append(PARTS[rnd.nextInt(PARTS.length)]);
            String text = answer.toString();
            ChatResponses.Thinking thinking = switch (rnd.nextInt(3)) {
                case 0 -> null;
                case 1 -> new ChatResponses.Thinking(ReasoningFormat.THINK, true);
                default -> new ChatResponses.Thinking(ReasoningFormat.THINK, false);
            };
            ToolChoices.Plan tools = rnd.nextInt(4) == 0 ? ToolChoices.Plan.FREE : auto;
            FinishReason finish = rnd.nextBoolean() ? FinishReason.STOP : FinishReason.LENGTH;
            List<Choices.Event> events = new ArrayList<>();
            for (int i = 0; i < text.length() || events.isEmpty(); ) {
                int j = Math.min(text.length(), i + 1 + rnd.nextInt(5));
                events.add(new Choices.Event(0, new RequestOutput("r", text.substring(i, j), new int[1], List.of(),
                        j == text.length() ? finish : null, 3, 1)));
                i = j;
            }
            ChatResponses.Meta meta = new ChatResponses.Meta("c", 1, MODEL, 3, false, null, tools, thinking);
            List<Choices.Choice> choices = List.of(new Choices.Choice(0, 0, null));
            ChatCompletionResponse.Choice whole = ChatResponses.collect(meta, choices, Flux.fromIterable(events)).block().choices().get(0);

            StringBuilder reasoning = new StringBuilder();
            StringBuilder content = new StringBuilder();
            List<String> calls = new ArrayList<>();
            String finishReason = null;
            for (String frame : ChatResponses.stream(meta, choices, Flux.fromIterable(events), StreamUsage.NONE, JSON).collectList().block()) {
                if (!frame.startsWith("data: {")) continue;
                JsonNode choice = JSON.readTree(frame.substring(6).strip()).get("choices").get(0);
                JsonNode delta = choice.get("delta");
                if (delta.hasNonNull("reasoning_content")) reasoning.append(delta.get("reasoning_content").asString());
                if (delta.hasNonNull("content")) content.append(delta.get("content").asString());
                if (delta.has("tool_calls")) {
                    for (JsonNode c : delta.get("tool_calls")) {
                        int index = c.get("index").asInt();
                        if (c.has("id")) calls.add(c.get("function").get("name").asString());
                        calls.set(index, calls.get(index) + c.get("function").get("arguments").asString());
                    }
                }
                if (!choice.get("finish_reason").isNull()) finishReason = choice.get("finish_reason").asString();
            }
            String where = "seed " + SEED + ", thinking " + thinking + ", tools " + tools.mode() + ", <" + text + ">";
            ChatCompletionResponse.Message m = whole.message();
            List<String> wholeCalls = new ArrayList<>();
            if (m.toolCalls() != null) m.toolCalls().forEach(c -> wholeCalls.add(c.function().name() + c.function().arguments()));
            assertThat(calls).as(where).isEqualTo(wholeCalls);
            assertThat(content.toString()).as(where).isEqualTo(m.content() == null ? "" : m.content());
            assertThat(reasoning.toString()).as(where).isEqualTo(m.reasoningContent() == null ? "" : m.reasoningContent());
            assertThat(finishReason).as(where).isEqualTo(whole.finishReason());
            if (!calls.isEmpty()) withCalls++;
        }
        assertThat(withCalls).as("enough answers must hold calls").isGreaterThan(200);
    }
}
