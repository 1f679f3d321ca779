package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import dev.podserve.api.dto.ChatCompletionResponse;
import dev.podserve.engine.FinishReason;
import dev.podserve.engine.RequestOutput;

import reactor.core.publisher.Flux;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;

/**
 * One chat answer through {@link ChatResponses} twice, as the call readers' random tests check
 * them: streamed in outputs of 1-5 characters and collected whole. The stream's content and each
 * call's argument pieces, put together, must equal the whole message, and each call's first delta
 * must carry its index in order, its id, type and name, later ones no name.
 */
final class StreamedAgainstWhole {

    /** What the stream said: content, each call's id, name and joined arguments, the finish reason. */
    record Streamed(String content, List<String> ids, List<String> names, List<String> arguments, String finish,
                    boolean wholeHasCalls) {
    }

    private StreamedAgainstWhole() {
    }

    static Streamed check(ChatResponses.Meta meta, String text, Random rnd, String where, ObjectMapper json) {
        List<Choices.Event> events = new ArrayList<>();
        for (int i = 0; i < text.length() || events.isEmpty(); ) {
            int j = Math.min(text.length(), i + 1 + rnd.nextInt(5));
            events.add(new Choices.Event(0, new RequestOutput("r", text.substring(i, j), new int[1], List.of(),
                    j == text.length() ? FinishReason.STOP : null, 3, 1)));
            i = j;
        }
        List<Choices.Choice> choices = List.of(new Choices.Choice(0, 0, null));
        ChatCompletionResponse.Choice whole = ChatResponses.collect(meta, choices, Flux.fromIterable(events)).block().choices().get(0);

        StringBuilder content = new StringBuilder();
        List<String> ids = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<StringBuilder> arguments = new ArrayList<>();
        String finish = null;
        for (String frame : ChatResponses.stream(meta, choices, Flux.fromIterable(events), StreamUsage.NONE, json).collectList().block()) {
            if (!frame.startsWith("data: {")) continue;
            JsonNode choice = json.readTree(frame.substring(6).strip()).get("choices").get(0);
            JsonNode delta = choice.get("delta");
            if (delta.hasNonNull("content")) content.append(delta.get("content").asString());
            if (delta.has("tool_calls")) {
                for (JsonNode c : delta.get("tool_calls")) {
                    int index = c.get("index").asInt();
                    if (c.has("id")) {
                        assertThat(index).as(where).isEqualTo(names.size());
                        assertThat(c.get("type").asString()).isEqualTo("function");
                        ids.add(c.get("id").asString());
                        names.add(c.get("function").get("name").asString());
                        arguments.add(new StringBuilder());
                    } else {
                        assertThat(c.get("function").has("name")).as(where).isFalse();
                    }
                    arguments.get(index).append(c.get("function").get("arguments").asString());
                }
            }
            if (!choice.get("finish_reason").isNull()) finish = choice.get("finish_reason").asString();
        }
        ChatCompletionResponse.Message m = whole.message();
        List<String> streamed = new ArrayList<>();
        for (int i = 0; i < names.size(); i++) streamed.add(names.get(i) + arguments.get(i));
        List<String> wholeCalls = new ArrayList<>();
        if (m.toolCalls() != null) m.toolCalls().forEach(c -> wholeCalls.add(c.function().name() + c.function().arguments()));
        assertThat(streamed).as(where).isEqualTo(wholeCalls);
        assertThat(content.toString()).as(where).isEqualTo(m.content() == null ? "" : m.content());
        assertThat(finish).as(where).isEqualTo(whole.finishReason());
        return new Streamed(content.toString(), ids, names, arguments.stream().map(StringBuilder::toString).toList(), finish,
                !wholeCalls.isEmpty());
    }
}
