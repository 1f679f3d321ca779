package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;

import dev.podserve.api.dto.ChatCompletionResponse.ToolCall;
import dev.podserve.engine.FinishReason;
import dev.podserve.engine.RequestOutput;
import dev.podserve.engine.ServingModel;

import reactor.core.publisher.Flux;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.ObjectMapper;
import tools.jackson.databind.json.JsonMapper;

/**
 * Qwen3-Coder's XML calls ({@link ToolCallFormat#QWEN3_CODER}) read back into content and calls:
 * hand cases of awkward answers, values typed by the tools' schemas, every cut of an answer, and
 * the SSE stream against the whole response.
 */
class XmlCallTextTest {

    private static final long SEED = Long.getLong("seed", System.nanoTime());
    private static final ObjectMapper JSON = JsonMapper.builder().build();

    @SuppressWarnings("unchecked")
    private static final List<Map<String, Object>> TOOLS = JSON.readValue("""
            [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {
                "city": {"type": "string"}, "days": {"type": "integer"}, "temp": {"type": "number"},
                "metric": {"type": "boolean"}, "options": {"type": "object"}, "tags": {"type": "array", "items": {}},
                "code": {"type": "string"}, "note": {"type": ["string", "null"]}, "unit": {"enum": ["c", "f"]},
                "limit": {"type": "integer"}, "scale": {"type": "number"}, "flag": {"type": "boolean"}}}}},
             {"type": "function", "function": {"name": "ping"}}]""", List.class);

    private static ToolCallText.Whole read(String answer) {
        return ToolCallText.read(new XmlCallText(ToolCallFormat.QWEN3_CODER, TOOLS), answer);
    }

    private static String calls(ToolCallText.Whole w) {
        StringBuilder b = new StringBuilder();
        for (ToolCall c : w.calls()) b.append(c.function().name()).append(c.function().arguments()).append(';');
        return b.toString();
    }

    /** Qwen3-Coder's layout of one call: every tag and value on a line of its own. */
    private static String call(String function, String... parameters) {
        StringBuilder b = new StringBuilder("<tool_call>\n<function=" + function + ">\n");
        for (int i = 0; i < parameters.length; i += 2) {
            b.append("<parameter=").append(parameters[i]).append(">\n").append(parameters[i + 1]).append("\n</parameter>\n");
        }
        return b.append("</function>\n</tool_call>").toString();
    }

    @Test
    void severalCallsComeOutOfTheTextAndTheContentBeforeThemStays() {
        String answer = "Let me check both.\n" + call("get_weather", "city", "Paris", "days", "3") + "\n" + call("ping");
        ToolCallText.Whole w = read(answer);
        assertThat(w.content()).isEqualTo("Let me check both.\n");
        assertThat(calls(w)).isEqualTo("get_weather{\"city\":\"Paris\",\"days\":3};ping{};");
        assertThat(w.calls()).allSatisfy(c -> {
            assertThat(c.id()).startsWith("call_");
            assertThat(c.type()).isEqualTo("function");
        });
        assertThat(w.calls().get(0).id()).isNotEqualTo(w.calls().get(1).id());
        assertThat(w.endedInArguments()).isFalse();

        ToolCallText.Whole only = read("\n" + call("ping") + "\n");
        assertThat(only.content()).as("blanks around calls are no content, as for hermes").isNull();
        assertThat(calls(only)).isEqualTo("ping{};");
        assertThat(read(call("ping") + " Done.").content()).as("text after the calls is content, as for hermes").isEqualTo(" Done.");
    }

    @Test
    void valuesAreTypedByTheirSchemas() {
        String code = "def f(x):\n\n    return '<b>' if x else \"\"\n";
        ToolCallText.Whole w = read(call("get_weather",
                "code", code,
                "city", "42",
                "days", " 7 ",
                "temp", "2.50",
                "scale", "3.0",
                "metric", "True",
                "options", "{\"a\": [1, 2.50], \"b\": {\"c\": null}}",
                "tags", "[\"x\", 1]",
                "note", "5",
                "unit", "c",
                "extra", "{\"k\": 1}",
                "other", "hello there",
                "limit", "many",
                "flag", "maybe"));
        assertThat(w.calls()).hasSize(1);
        JsonNode arguments = JSON.readTree(w.calls().get(0).function().arguments());
        assertThat(arguments.get("code").asString()).as("a string is the text, inner newlines and all").isEqualTo(code);
        assertThat(arguments.get("city").isString()).as("a string that looks like a number stays one").isTrue();
        assertThat(arguments.get("city").asString()).isEqualTo("42");
        assertThat(arguments.get("days").isIntegralNumber()).isTrue();
        assertThat(arguments.get("days").asInt()).isEqualTo(7);
        assertThat(w.calls().get(0).function().arguments())
                .contains("\"temp\":2.5,").as("a whole number is an integer, as vLLM gives it").contains("\"scale\":3,")
                .contains("\"metric\":true,").contains("\"options\":{\"a\":[1,2.50],\"b\":{\"c\":null}},")
                .contains("\"tags\":[\"x\",1],").as("a type list with string in it is text").contains("\"note\":\"5\",")
                .as("a property that names no type is text").contains("\"unit\":\"c\",")
                .as("a parameter not in the schema is text, as vLLM leaves it").contains("\"extra\":\"{\\\"k\\\": 1}\",")
                .contains("\"other\":\"hello there\",")
                .as("a value that is not of its type stays the text").contains("\"limit\":\"many\",").contains("\"flag\":\"maybe\"}");
        assertThat(arguments.propertyNames()).as("in the order written").containsExactly("code", "city", "days", "temp", "scale",
                "metric", "options", "tags", "note", "unit", "extra", "other", "limit", "flag");
        assertThat(XmlParameters.typed("null", Map.of("type", "integer")).isNull()).isTrue();
        assertThat(XmlParameters.typed("null", Map.of("type", "string")).isNull()).as("null whatever the type, as vLLM reads it").isTrue();
        assertThat(XmlParameters.typed("1e2", Map.of("type", "number")).toString()).isEqualTo("100");
        assertThat(XmlParameters.typed("-12345678901234567890", Map.of("type", "integer")).toString()).isEqualTo("-12345678901234567890");
        assertThat(XmlParameters.typed("FALSE", Map.of("type", "boolean")).isBoolean()).isTrue();
        assertThat(XmlParameters.json("1 2").asString()).as("only a whole value is JSON").isEqualTo("1 2");
    }

    @Test
    void aValueKeepsAllButOneLineFeedEachSide() {
        ToolCallText.Whole w = read("<tool_call>\n<function=get_weather>\n<parameter=city>\n\nParis\n\n</parameter>\n"
                + "<parameter=code>x</parameter>\n</function>\n</tool_call>");
        assertThat(calls(w)).isEqualTo("get_weather{\"city\":\"\\nParis\\n\",\"code\":\"x\"};");
        // A closer the model left out: the value ends where the next parameter, or the call, does (as vLLM reads it).
        assertThat(calls(read("<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n<parameter=days>\n2\n</function>")))
                .isEqualTo("get_weather{\"city\":\"Paris\",\"days\":2};");
    }

    @Test
    void aMissingToolCallCloserAtTheEndIsNotMissed() {
        for (String end : List.of("", "\n", "\n\n")) {
            ToolCallText.Whole w = read("On it.\n<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n</function>" + end);
            assertThat(calls(w)).isEqualTo("get_weather{\"city\":\"Paris\"};");
            assertThat(w.content()).isEqualTo("On it.\n");
            assertThat(w.endedInArguments()).as("the call is whole").isFalse();
        }
    }

    /**
     * A {@code </function>} the model left out: its {@code </tool_call>} ends the call (vLLM reads each
     * {@code <tool_call>...</tool_call>} on its own), so the call is whole and a call after it is still read,
     * not taken into the first one's arguments, whole or cut at any point.
     */
    @Test
    void aMissingFunctionCloserEndsAtTheToolCallCloser() {
        String answer = "<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n</tool_call>\n"
                + call("get_weather", "city", "Rome", "days", "2");
        ToolCallText.Whole w = read(answer);
        assertThat(calls(w)).isEqualTo("get_weather{\"city\":\"Paris\"};get_weather{\"city\":\"Rome\",\"days\":2};");
        assertThat(w.content()).isNull();
        assertThat(w.endedInArguments()).as("both calls are whole").isFalse();
        String whole = pieces(answer);
        for (int k = 0; k < answer.length(); k++) {
            assertThat(pieces(answer.substring(0, k), answer.substring(k))).as("cut at " + k).isEqualTo(whole);
        }
        assertThat(calls(read("<tool_call>\n<function=ping>\n</tool_call>" + call("ping")))).isEqualTo("ping{};ping{};");
        // The tag inside a value (a coding model writing a parser) is the value's.
        String code = "s = text.split('</tool_call>')\n</tool_call>";
        assertThat(calls(read(call("get_weather", "code", code)))).isEqualTo("get_weather{\"code\":\"s = text.split('</tool_call>')\\n</tool_call>\"};");
    }

    @Test
    void aCallCutByTheEndOfTheAnswerIsItsParametersSoFarAndNotAFinishedCall() {
        ToolCallText.Whole cut = read("<tool_call>\n<function=get_weather>\n<parameter=city>\nParis\n</parameter>\n<parameter=days>\n1");
        assertThat(calls(cut)).isEqualTo("get_weather{\"city\":\"Paris\",\"days\":1};");
        assertThat(cut.endedInArguments()).isTrue();
        assertThat(calls(read("<tool_call>\n<function=get_weather>\n<parameter=ci"))).isEqualTo("get_weather{};");
        // Cut before the name is whole: not a call yet, so the text.
        ToolCallText.Whole noName = read("Sure.<tool_call>\n<function=get_wea");
        assertThat(noName.calls()).isEmpty();
        assertThat(noName.content()).isEqualTo("Sure.<tool_call>\n<function=get_wea");
    }

    @Test
    void whatIsNoXmlCallIsContentWordForWord() {
        for (String text : List.of("<tool_call>\n{\"name\": \"ping\", \"arguments\": {}}\n</tool_call>", "a <tool_call> b",
                "<tool_call><function=>x</function></tool_call>", "<tool_call><function=a\nb>x</function>",
                "<tool_call><func", "<tool_call>", "Just <tool text.", "x <function=ping></function>")) {
            ToolCallText.Whole w = read(text);
            assertThat(w.calls()).as(text).isEmpty();
            assertThat(w.content()).as(text).isEqualTo(text);
        }
        ToolCallText.Whole after = read("<tool_call>oops</tool_call>" + call("ping"));
        assertThat(after.content()).as("a call after a false opener is still read").isEqualTo("<tool_call>oops</tool_call>");
        assertThat(calls(after)).isEqualTo("ping{};");
    }

    @Test
    void aFunctionTheToolsDoNotListIsReadAsWrittenItsValuesAsText() {
        // As the JSON formats read one where no grammar bound the call: the name as written; with no
        // schema to type them by, its values are text, as vLLM leaves them.
        ToolCallText.Whole w = read("<tool_call><function=launch><parameter=n>3</parameter><parameter=s>go</parameter>"
                + "<parameter=o>{\"a\": true}</parameter></function></tool_call>");
        assertThat(calls(w)).isEqualTo("launch{\"n\":\"3\",\"s\":\"go\",\"o\":\"{\\\"a\\\": true}\"};");
    }

    @Test
    void blanksAfterTextInTheLastChunkAreKeptWhenStreamedAsWhole() {
        // The last chunk brings text (an opener that opened nothing) and then a blank beside a call:
        // the whole response keeps the blank after that text, so the stream must too.
        assertThat(streamedContent("<tool_call><function=ping></function></tool_call>", "<tool_call>\n"))
                .isEqualTo(read("<tool_call><function=ping></function></tool_call><tool_call>\n").content());
    }

    @Test
    void parallelToolCallsFalseReadsOneCallAndEndsTheAnswerThere() {
        XmlCallText one = new XmlCallText(ToolCallFormat.QWEN3_CODER, TOOLS, 1);
        ToolCallText.Whole w = ToolCallText.read(one, "Two.\n" + call("ping") + "\n" + call("get_weather", "city", "Rome") + " Bye.");
        assertThat(calls(w)).isEqualTo("ping{};");
        assertThat(w.content()).isEqualTo("Two.\n");
    }

    /** An answer's pieces in order: content, and each call as {@code index:name|arguments}. */
    private static String pieces(String... parts) {
        CallReader reader = new XmlCallText(ToolCallFormat.QWEN3_CODER, TOOLS);
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
            "Hi <tool_call>\n<function=get_weather>\n<parameter=city>\na</parameter>\n</parameter>\n</function>\n</tool_call></tool_call>",
            "<tool_call>  <function=ping></function></tool_call><tool_call><function=ping>",
            "<tool_call>\n<function=get_weather>\n<parameter=days>\n12", "<tool_call>\n<function=get_weather>\n<parameter=",
            "<tool_call><function=x y>z</function> </tool_call> <tool_ca", "<<tool_call>>", "<tool_call>\n<function",
            "</tool_call><tool_call><function=ping></function>\n\n</tool_cal", "<tool_call><parameter=a>1</parameter></tool_call>",
        };
        List<String> wrong = new ArrayList<>();
        for (String text : texts) {
            String whole = pieces(text);
            for (int k = 0; k < text.length(); k++) {
                String cut = pieces(text.substring(0, k), text.substring(k));
                if (!cut.equals(whole)) wrong.add("cut at " + k + " of <" + text + ">: " + cut + " against " + whole);
            }
        }
        assertThat(wrong).isEmpty();
        assertThat(pieces(texts[0])).isEqualTo("content <Hi </tool_call>> calls [0:get_weather|{\"city\":\"a\"}] cut false");
        assertThat(pieces(texts[1])).isEqualTo("content <> calls [0:ping|{}, 1:ping|{}] cut true");
        assertThat(pieces(texts[4])).isEqualTo("content < <tool_ca> calls [0:x y|{}] cut false");
    }

    /** The content a stream of these outputs (the last one finishing) sends. */
    private static String streamedContent(String... outputs) {
        ServingModel model = new ServingModel("m", "m", null, null, null, null, null, "test", 0);
        ToolChoices.Plan auto = new ToolChoices.Plan(ToolChoices.Mode.AUTO, TOOLS, null, null, ToolCallFormat.QWEN3_CODER);
        List<Choices.Event> events = new ArrayList<>();
        for (int i = 0; i < outputs.length; i++) {
            events.add(new Choices.Event(0, new RequestOutput("r", outputs[i], new int[1], List.of(),
                    i == outputs.length - 1 ? FinishReason.STOP : null, 3, 1)));
        }
        ChatResponses.Meta meta = new ChatResponses.Meta("c", 1, model, 3, false, null, auto, null);
        StringBuilder content = new StringBuilder();
        for (String frame : ChatResponses.stream(meta, List.of(new Choices.Choice(0, 0, null)), Flux.fromIterable(events), StreamUsage.NONE, JSON)
                .collectList().block()) {
            if (!frame.startsWith("data: {")) continue;
            JsonNode delta = JSON.readTree(frame.substring(6).strip()).get("choices").get(0).get("delta");
            if (delta.hasNonNull("content")) content.append(delta.get("content").asString());
        }
        return content.toString();
    }

    /**
     * Random answers through {@link ChatResponses}, streamed in random outputs and whole: the stream's
     * content and each call's argument pieces, put together, must equal the message, and no part of
     * a call's tags may go out as content.
     */
    @Test
    void theStreamAddsUpToTheWholeResponseAndLeaksNoTag() {
        Random rnd = new Random(SEED);
        ServingModel model = new ServingModel("m", "m", null, null, null, null, null, "test", 0);
        ToolChoices.Plan auto = new ToolChoices.Plan(ToolChoices.Mode.AUTO, TOOLS, null, null, ToolCallFormat.QWEN3_CODER);
        String[] parts = {"Hi", " ", "\n", "<", "<tool", "<tool_call>", "</tool_call>", "<function=ping>", "</function>", ">",
                "<parameter=city>", "</parameter>", "Paris\n2", "<function=get_weather>"};
        int withCalls = 0;
        for (int a = 0; a < 1500; a++) {
            StringBuilder answer = new StringBuilder();
            boolean wellFormed = rnd.nextInt(3) == 0;
            if (wellFormed) {
                answer.append(rnd.nextBoolean() ? "Let me see.\n" : "");
                for (int k = rnd.nextInt(3); k >= 0; k--) {
                    answer.append(rnd.nextBoolean() ? call("ping") : call("get_weather", "city", "New\nYork", "days", "2", "tags", "[1]"))
                            .append(rnd.nextBoolean() ? "\n" : "");
                }
            } else {
                for (int k = rnd.nextInt(10); k >= 0; k--) answer.append(parts[rnd.nextInt(parts.length)]);
            }
            String text = answer.toString();
            String where = "seed " + SEED + ", <" + text + ">";
            ChatResponses.Meta meta = new ChatResponses.Meta("c", 1, model, 3, false, null, auto, null);
            StreamedAgainstWhole.Streamed streamed = StreamedAgainstWhole.check(meta, text, rnd, where, JSON);
            if (wellFormed) {
                assertThat(streamed.content()).as(where).doesNotContain("<").doesNotContain("tool_call").doesNotContain("function");
                assertThat(streamed.finish()).as(where).isEqualTo("tool_calls");
                for (String args : streamed.arguments()) assertThat(JSON.readTree(args).isObject()).as(where).isTrue();
            }
            if (streamed.wholeHasCalls()) withCalls++;
        }
        assertThat(withCalls).as("enough answers must hold calls").isGreaterThan(300);
    }
}
