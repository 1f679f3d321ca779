package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

import dev.podserve.api.dto.ChatCompletionResponse.ToolCall;
import dev.podserve.engine.ServingModel;

import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * Mistral v11's calls ({@link ToolCallFormat#MISTRAL_V11}: {@code [TOOL_CALLS]NAME[ARGS]{...}}) read
 * back into content and calls: hand cases of awkward answers, every cut of an answer, and the SSE
 * stream against the whole response for random answers.
 */
class MistralCallTextTest {

    private static final long SEED = Long.getLong("seed", System.nanoTime());
    private static final ObjectMapper JSON = JsonMapper.builder().build();

    private static ToolCallText.Whole read(String answer) {
        return ToolCallText.read(new MistralCallText(ToolCallFormat.MISTRAL_V11), answer);
    }

    private static String calls(ToolCallText.Whole w) {
        StringBuilder b = new StringBuilder();
        for (ToolCall c : w.calls()) b.append(c.function().name()).append(c.function().arguments()).append(';');
        return b.toString();
    }

    private static String call(String name, String arguments) {
        return "[TOOL_CALLS]" + name + "[ARGS]" + arguments;
    }

    @Test
    void severalCallsComeOutOfTheTextAndTheContentBeforeThemStays() {
        String answer = "Let me check both.\n" + call("get_weather", "{\"city\": \"Paris\", \"days\": 3}") + call("ping", "{}");
        ToolCallText.Whole w = read(answer);
        assertThat(w.content()).isEqualTo("Let me check both.\n");
        assertThat(calls(w)).as("arguments exactly as written").isEqualTo("get_weather{\"city\": \"Paris\", \"days\": 3};ping{};");
        assertThat(w.calls()).allSatisfy(c -> {
            assertThat(c.id()).as("Mistral's templates take back 9 letters and digits only").matches("[A-Za-z0-9]{9}");
            assertThat(c.type()).isEqualTo("function");
        });
        assertThat(w.calls().get(0).id()).isNotEqualTo(w.calls().get(1).id());
        assertThat(w.endedInArguments()).isFalse();

        ToolCallText.Whole only = read("\n" + call("ping", "{}") + "\n " + call("ping", "{\"a\":1}") + "\n");
        assertThat(only.content()).as("blanks around and between calls are no content").isNull();
        assertThat(calls(only)).isEqualTo("ping{};ping{\"a\":1};");
        ToolCallText.Whole after = read(call("ping", "{}") + " Done.");
        assertThat(after.content()).as("text after the calls is content, blanks and all").isEqualTo(" Done.");
    }

    @Test
    void theCallIdSomeModelsWriteIsPassedOver() {
        ToolCallText.Whole w = read("[TOOL_CALLS]get_weather[CALL_ID]a1B2c3D4e[ARGS]{\"city\": \"Rome\"}"
                + "[TOOL_CALLS]ping[CALL_ID] 123456789 [ARGS]{}");
        assertThat(calls(w)).isEqualTo("get_weather{\"city\": \"Rome\"};ping{};");
        assertThat(w.content()).isNull();
        assertThat(w.calls().get(0).id()).as("the server's own id, not the model's").isNotEqualTo("a1B2c3D4e").hasSize(9);
    }

    @Test
    void theArgumentsEndWhereTheirObjectClosesWhateverTheirStringsHold() {
        String arguments = "{\"q\": \"a [ARGS] b } ] \\\" [TOOL_CALLS]x[ARGS]{\", \"n\": {\"m\": [1, {\"k\": \"}\"}], \"o\": {}},"
                + " \"e\": \"\\\\\", \"u\": \"\\u007d\"}";
        ToolCallText.Whole w = read(call("search", arguments) + call("ping", "{}"));
        assertThat(w.calls()).hasSize(2);
        assertThat(w.calls().get(0).function().arguments()).isEqualTo(arguments);
        assertThat(JSON.readTree(w.calls().get(0).function().arguments()).get("q").asString())
                .isEqualTo("a [ARGS] b } ] \" [TOOL_CALLS]x[ARGS]{");
        assertThat(w.calls().get(1).function().name()).isEqualTo("ping");
        assertThat(w.content()).isNull();
    }

    @Test
    void blanksAroundTheNameAndBeforeTheObjectAreNotPartOfTheCall() {
        ToolCallText.Whole w = read("[TOOL_CALLS] get_weather \n[ARGS] \n{\"city\": \"Rome\"}");
        assertThat(calls(w)).isEqualTo("get_weather{\"city\": \"Rome\"};");
        assertThat(w.content()).isNull();
    }

    @Test
    void aCallCutByTheEndOfTheAnswerIsItsArgumentsSoFarAndNotAFinishedCall() {
        ToolCallText.Whole cut = read("Sure." + call("get_weather", "{\"city\": \"Par"));
        assertThat(calls(cut)).isEqualTo("get_weather{\"city\": \"Par;");
        assertThat(cut.content()).isEqualTo("Sure.");
        assertThat(cut.endedInArguments()).isTrue();
        assertThat(read(call("a", "{\"b\": {}") ).endedInArguments()).as("one brace still open").isTrue();
        // Cut before the object has begun: not a call yet, so the text.
        for (String text : List.of("Sure.[TOOL_CALLS]get_wea", "[TOOL_CALLS]get_weather[AR", "[TOOL_CALLS]get_weather[ARGS] ",
                "[TOOL_CALLS]f[CALL_ID]12", "[TOOL_CALLS]", "[TOOL_CALL")) {
            ToolCallText.Whole w = read(text);
            assertThat(w.calls()).as(text).isEmpty();
            assertThat(w.content()).as(text).isEqualTo(text);
            assertThat(w.endedInArguments()).as(text).isFalse();
        }
    }

    @Test
    void whatIsNoCallIsContentWordForWord() {
        for (String text : List.of("[TOOL_CALLS]get_weather{\"city\": \"Paris\"}", "[TOOL_CALLS][ARGS]{}", "[TOOL_CALLS]  [ARGS]{}",
                "[TOOL_CALLS]f[ARGS][1, 2]", "[TOOL_CALLS]f[ARGS]\"x\"", "[TOOL_CALLS]f[ARGS]42", "[TOOL_CALLS]f[ARGS]null",
                "[TOOL_CALLS][{\"name\": \"f\", \"arguments\": {}}]", "[TOOL_CALLS]get weather[ARGS]{}", "[TOOL_CALLS]f[OTHER]{}",
                "[TOOL_CALLS]f[CALL_ID]a b[ARGS]{}", "[TOOL_CALLS]f[CALL_ID]x[OTHER]{}", "a [TOOL_CALLS] is a token I know",
                "[TOOL_CALLS][TOOL_CALLS]", "[ARGS]{}", "f[ARGS]{}")) {
            ToolCallText.Whole w = read(text);
            assertThat(w.calls()).as(text).isEmpty();
            assertThat(w.content()).as(text).isEqualTo(text);
        }
        ToolCallText.Whole after = read("[TOOL_CALLS]oops " + call("ping", "{}"));
        assertThat(after.content()).as("a call after a false opener is still read").isEqualTo("[TOOL_CALLS]oops ");
        assertThat(calls(after)).isEqualTo("ping{};");
        ToolCallText.Whole twice = read("[TOOL_CALLS]" + call("ping", "{}"));
        assertThat(twice.content()).isEqualTo("[TOOL_CALLS]");
        assertThat(calls(twice)).isEqualTo("ping{};");
    }

    @Test
    void parallelToolCallsFalseReadsOneCallAndEndsTheAnswerThere() {
        MistralCallText one = new MistralCallText(ToolCallFormat.MISTRAL_V11, 1);
        ToolCallText.Whole w = ToolCallText.read(one, "Two.\n" + call("ping", "{}") + call("get_weather", "{\"city\": \"Rome\"}") + " Bye.");
        assertThat(calls(w)).isEqualTo("ping{};");
        assertThat(w.content()).isEqualTo("Two.\n");
        assertThat(w.endedInArguments()).isFalse();
    }

    /** An answer's pieces in order: content, and each call as {@code index:name|arguments}. */
    private static String pieces(String... parts) {
        CallReader reader = new MistralCallText(ToolCallFormat.MISTRAL_V11);
        List<ToolCallText.Piece> all = new ArrayList<>();
        for (String part : parts) all.addAll(reader.feed(part));
        all.addAll(reader.finish());
        StringBuilder content = new StringBuilder();
        List<StringBuilder> each = new ArrayList<>();
        for (ToolCallText.Piece p : all) {
            if (p instanceof ToolCallText.Content c) content.append(c.text());
            else if (p instanceof ToolCallText.CallStart c) each.add(new StringBuilder(c.index() + ":" + c.call().function().name() + "|"));
            else each.get(((ToolCallText.CallArguments) p).index()).append(((ToolCallText.CallArguments) p).text());
        }
        return "content <" + content + "> calls " + each + " cut " + reader.endedInArguments();
    }

    @Test
    void everyCutOfAwkwardAnswersReadsAsTheWhole() {
        String[] texts = {
            "Hi [TOOL_CALLS] f [CALL_ID]x1[ARGS] {\"a\": \"}\\\"[ARGS]\", \"b\": [{}]}\n[TOOL_CALLS]g[ARGS]{}  Bye [TOOL_CALLS",
            "[TOOL_CALLS]f[ARGS]{\"a\": {\"b\": \"\\\\\"}", "[[TOOL_CALLS]][TOOL_CALLS]f[ARG]{}[TOOL_CALLS]g[ARGS]{}",
            "[TOOL_CALLS]get weather[ARGS]{}", "[TOOL_CALLS]f[ARGS][1][TOOL_CALLS]f[ARGS]{}x", "[TOOL_CALLS]f[ARGS]",
            "[TOOL_CALLS]f[ARGS]{}[TOOL_CALLS][TOOL_CALLS]g[CALL_ID][ARGS]{\"x\":1}",
        };
        List<String> wrong = new ArrayList<>();
        for (String text : texts) {
            String whole = pieces(text);
            for (int k = 0; k < text.length(); k++) {
                String cut = pieces(text.substring(0, k), text.substring(k));
                if (!cut.equals(whole)) wrong.add("cut at " + k + " of <" + text + ">: " + cut + " against " + whole);
            }
            String[] chars = text.split("");
            if (!pieces(chars).equals(whole)) wrong.add("char by char of <" + text + ">: " + pieces(chars) + " against " + whole);
        }
        assertThat(wrong).isEmpty();
        assertThat(pieces(texts[0])).isEqualTo("content <Hi   Bye [TOOL_CALLS> calls [0:f|{\"a\": \"}\\\"[ARGS]\", \"b\": [{}]}, 1:g|{}] cut false");
        assertThat(pieces(texts[1])).isEqualTo("content <> calls [0:f|{\"a\": {\"b\": \"\\\\\"}] cut true");
        assertThat(pieces(texts[2])).isEqualTo("content <[[TOOL_CALLS]][TOOL_CALLS]f[ARG]{}> calls [0:g|{}] cut false");
        assertThat(pieces(texts[4])).isEqualTo("content <[TOOL_CALLS]f[ARGS][1]x> calls [0:f|{}] cut false");
        assertThat(pieces(texts[6])).isEqualTo("content <[TOOL_CALLS]> calls [0:f|{}, 1:g|{\"x\":1}] cut false");
    }

    /**
     * Random answers through {@link ChatResponses}, streamed in random outputs and whole: the stream's
     * content and each call's argument pieces, put together, must equal the message, and no part of
     * a well-formed answer's calls may go out as content.
     */
    @Test
    void theStreamAddsUpToTheWholeResponseAndLeaksNoMarker() {
        Random rnd = new Random(SEED);
        ServingModel model = new ServingModel("m", "m", null, null, null, null, null, "test", 0);
        List<Map<String, Object>> tools = List.of(Map.of("type", "function", "function", Map.of("name", "ping")));
        ToolChoices.Plan auto = new ToolChoices.Plan(ToolChoices.Mode.AUTO, tools, null, null, ToolCallFormat.MISTRAL_V11);
        String[] parts = {"Hi", " ", "\n", "[", "]", "[TOOL", "[TOOL_CALLS]", "[ARGS]", "[CALL_ID]", "ping", "{", "}", "\"",
            "\\", "{\"a\": \"}\"}", "[1]", "x7"};
        String[] arguments = {"{}", "{\"city\": \"New\\nYork\", \"days\": 2}", "{\"q\": \"[ARGS]}\\\"{\", \"n\": {\"m\": [{}]}}"};
        int withCalls = 0;
        for (int a = 0; a < 1500; a++) {
            StringBuilder answer = new StringBuilder();
            boolean wellFormed = rnd.nextInt(3) == 0;
            if (wellFormed) {
                answer.append(rnd.nextBoolean() ? "Let me see.\n" : "");
                for (int k = rnd.nextInt(3); k >= 0; k--) {
                    answer.append("[TOOL_CALLS]").append(rnd.nextBoolean() ? "ping" : " get_weather ")
                            .append(rnd.nextInt(4) == 0 ? "[CALL_ID]abc123XYZ" : "").append("[ARGS]")
                            .append(arguments[rnd.nextInt(arguments.length)]).append(rnd.nextBoolean() ? "\n" : "");
                }
            } else {
                for (int k = rnd.nextInt(12); k >= 0; k--) answer.append(parts[rnd.nextInt(parts.length)]);
            }
            String text = answer.toString();
            String where = "seed " + SEED + ", <" + text + ">";
            ChatResponses.Meta meta = new ChatResponses.Meta("c", 1, model, 3, false, null, auto, null);
            StreamedAgainstWhole.Streamed streamed = StreamedAgainstWhole.check(meta, text, rnd, where, JSON);
            assertThat(streamed.ids()).as(where).allMatch(id -> id.matches("[A-Za-z0-9]{9}"));
            if (wellFormed) {
                assertThat(streamed.content()).as(where).doesNotContain("[").doesNotContain("ARGS").doesNotContain("{");
                assertThat(streamed.finish()).as(where).isEqualTo("tool_calls");
                for (String args : streamed.arguments()) assertThat(JSON.readTree(args).isObject()).as(where).isTrue();
                assertThat(streamed.names()).as(where).allMatch(n -> n.equals("ping") || n.equals("get_weather"));
            }
            if (streamed.wholeHasCalls()) withCalls++;
        }
        assertThat(withCalls).as("enough answers must hold calls").isGreaterThan(300);
    }
}
