package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

import dev.podserve.api.dto.ChatCompletionResponse.ToolCall;

/**
 * Reading a model's answer back into content and tool calls, in each format: hand cases, then
 * random answers streamed in random pieces, which must read exactly as the whole answer does.
 */
class ToolCallTextTest {

    private static final long SEED = Long.getLong("seed", System.nanoTime());

    private static String calls(ToolCallText.Whole w) {
        StringBuilder b = new StringBuilder();
        for (ToolCall c : w.calls()) b.append(c.function().name()).append(c.function().arguments()).append(';');
        return b.toString();
    }

    @Test
    void hermesCallsComeOutOfTheTextWithTheirTagsAndTheBlanksAroundThem() {
        ToolCallText.Whole w = ToolCallText.read(ToolCallFormat.HERMES,
                "Let me check.\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"n\": 1.50}}\n</tool_call>\n"
                        + "<tool_call>{\"arguments\": {}, \"name\": \"ping\"}</tool_call>\n");
        assertThat(w.content()).isEqualTo("Let me check.\n");
        assertThat(calls(w)).as("arguments exactly as written").isEqualTo("get_weather{\"city\": \"Paris\", \"n\": 1.50};ping{};");
        assertThat(w.calls().get(0).id()).startsWith("call_");

        ToolCallText.Whole only = ToolCallText.read(ToolCallFormat.HERMES, "\n<tool_call>{\"name\": \"ping\", \"arguments\": {}}</tool_call>");
        assertThat(only.content()).as("blanks alone around calls are no content").isNull();

        assertThat(ToolCallText.read(ToolCallFormat.HERMES, "Just text, <tool but no call.").content())
                .isEqualTo("Just text, <tool but no call.");
        assertThat(ToolCallText.read(ToolCallFormat.HERMES, "a <tool_call> b").content()).as("an opener without a call is text")
                .isEqualTo("a <tool_call> b");
        ToolCallText.Whole cutShort = ToolCallText.read(ToolCallFormat.HERMES, "Sure.<tool_call>{\"name\": \"get_weather\", \"arguments\": {\"ci");
        assertThat(calls(cutShort)).as("a call that began stands, its arguments cut").isEqualTo("get_weather{\"ci;");
        assertThat(cutShort.content()).isEqualTo("Sure.");
        String beforeName = "Sure.<tool_call>{\"name\": \"get_w";
        ToolCallText.Whole noName = ToolCallText.read(ToolCallFormat.HERMES, beforeName);
        assertThat(noName.calls()).isEmpty();
        assertThat(noName.content()).as("cut before its name is whole, it is the text it was").isEqualTo(beforeName);
        assertThat(calls(ToolCallText.read(ToolCallFormat.HERMES, "<tool_call>{\"arguments\": {\"x\": 2}, \"name\": \"f\"}</tool_call>")))
                .as("arguments before the name").isEqualTo("f{\"x\": 2};");
        String twice = "<tool_call>{\"name\": \"f\", \"name\": \"g\", \"arguments\": {\"a\": 1}, \"arguments\": {\"b\": 2}}</tool_call>";
        assertThat(calls(ToolCallText.read(ToolCallFormat.HERMES, twice))).as("the first of each, as a stream gives them out")
                .isEqualTo("f{\"a\": 1};");
        ToolCallText oneByOne = new ToolCallText(ToolCallFormat.HERMES);
        StringBuilder streamed = new StringBuilder();
        for (int i = 0; i < twice.length(); i++) {
            for (ToolCallText.Piece p : oneByOne.feed(twice.substring(i, i + 1))) {
                if (p instanceof ToolCallText.CallStart c) streamed.append(c.call().function().name());
                if (p instanceof ToolCallText.CallArguments a) streamed.append(a.text());
            }
        }
        assertThat(streamed.toString()).isEqualTo("f{\"a\": 1}");
        assertThat(ToolCallText.read(ToolCallFormat.HERMES, "<tool_call>{\"nom\": \"x\"}</tool_call>").content())
                .as("JSON that is not a call is text").isEqualTo("<tool_call>{\"nom\": \"x\"}</tool_call>");
        ToolCallText.Whole after = ToolCallText.read(ToolCallFormat.HERMES,
                "<tool_call>{\"name\": \"ping\", \"arguments\": \"{}\"}</tool_call> Done.");
        assertThat(calls(after)).as("arguments sent as a string stay that string").isEqualTo("ping{};");
        assertThat(after.content()).isEqualTo(" Done.");
    }

    @Test
    void llama3CallsAreTheWholeAnswerSeparatedBySemicolons() {
        ToolCallText.Whole w = ToolCallText.read(ToolCallFormat.LLAMA3_JSON,
                "  {\"name\": \"f\", \"parameters\": {\"a\": [1, \"}\"]}}; {\"name\": \"g\", \"parameters\": {}}");
        assertThat(calls(w)).isEqualTo("f{\"a\": [1, \"}\"]};g{};");
        assertThat(w.content()).isNull();
        assertThat(calls(ToolCallText.read(ToolCallFormat.LLAMA3_JSON, "<|python_tag|>{\"name\": \"f\", \"parameters\": {}}")))
                .isEqualTo("f{};");
        ToolCallText.Whole text = ToolCallText.read(ToolCallFormat.LLAMA3_JSON, "The set {1, 2} is small.");
        assertThat(text.calls()).isEmpty();
        assertThat(text.content()).isEqualTo("The set {1, 2} is small.");
        assertThat(ToolCallText.read(ToolCallFormat.LLAMA3_JSON, "{1, 2} is a set.").content()).isEqualTo("{1, 2} is a set.");
    }

    /** The reader counts blanks and closers exactly as the token-level rule does, so it never reads JSON the rule did not bind. */
    @Test
    void onlyJsonsFourBlanksAndOneCloserPerCallAreSkipped() {
        for (String odd : new String[] {"\u000B", "\u000C", "\u3000", "\u2003"}) {
            String text = odd + "{\"name\": \"not_a_tool\", \"parameters\": {}}";
            ToolCallText.Whole w = ToolCallText.read(ToolCallFormat.LLAMA3_JSON, text);
            assertThat(w.calls()).as("U+%04X is no blank", (int) odd.charAt(0)).isEmpty();
            assertThat(w.content()).isEqualTo(text);
            String second = "{\"name\": \"f\", \"parameters\": {}}" + odd + ";{\"name\": \"g\", \"parameters\": {}}";
            assertThat(calls(ToolCallText.read(ToolCallFormat.LLAMA3_JSON, second))).isEqualTo("f{};");
        }
        ToolCallText.Whole twice = ToolCallText.read(ToolCallFormat.HERMES,
                "<tool_call>{\"name\": \"f\", \"arguments\": {}}</tool_call></tool_call>");
        assertThat(twice.content()).as("a second closer is text").isEqualTo("</tool_call>");
        ToolCallText.Whole cut = ToolCallText.read(ToolCallFormat.LLAMA3_JSON, "{\"name\": \"f\", \"parameters\": {}} ;{\"na");
        assertThat(calls(cut)).isEqualTo("f{};");
        assertThat(cut.content()).as("the blanks before a separator come back with it").isEqualTo(" ;{\"na");
    }

    /** "required": the answer is the array; its arguments exactly as generated, numbers included. */
    @Test
    void requiredsArrayIsReadAsWrittenAndACutAnswerBeforeACallIsText() {
        ToolCallText.Whole w = ToolCallText.read(ToolCallFormat.REQUIRED,
                " [{\"name\": \"f\", \"parameters\": {\"x\": 1e400, \"y\": 0.12345678901234567890123, \"z\": 2.50}}, {\"parameters\": {}, \"name\": \"g\"}]");
        assertThat(calls(w)).isEqualTo("f{\"x\": 1e400, \"y\": 0.12345678901234567890123, \"z\": 2.50};g{};");
        assertThat(w.content()).isNull();
        assertThat(w.calls().get(0).id()).isNotEqualTo(w.calls().get(1).id());
        assertThat(ToolCallText.read(ToolCallFormat.REQUIRED, "[{\"name\": \"f\", \"parameters\": {\"x\": 1").calls())
                .as("cut inside its arguments, the call stands").hasSize(1);
        assertThat(ToolCallText.read(ToolCallFormat.REQUIRED, "[{\"parame").content()).isEqualTo("[{\"parame");
        assertThat(ToolCallText.read(ToolCallFormat.REQUIRED, "[]").content()).isEqualTo("[]");
    }

    @Test
    void mistralCallsAreOneArrayAfterItsToken() {
        ToolCallText.Whole w = ToolCallText.read(ToolCallFormat.MISTRAL,
                "[TOOL_CALLS] [{\"name\": \"f\", \"arguments\": {\"a\": 1}}, {\"name\": \"g\", \"arguments\": {}}]");
        assertThat(calls(w)).isEqualTo("f{\"a\": 1};g{};");
        assertThat(w.content()).isNull();
    }

    /** An answer's pieces in order: content, and each call as {@code index:name|arguments}. */
    private static String pieces(ToolCallFormat format, String... parts) {
        ToolCallText reader = new ToolCallText(format);
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
        return "content <" + content + "> calls " + each;
    }

    /**
     * Texts a grammar would never let through (the reader also reads what was not bound), cut in
     * two at every place: each cut must read as the whole does, and nothing may throw.
     */
    @Test
    void everyCutOfAwkwardTextsReadsAsTheWhole() {
        String[] texts = {
            "<tool_call>{\"name\": \"f\", \"arguments\": {\"s\": \"a\\\\\\\"}{[\", \"t\": true, \"n\": null}}</tool_call>",
            "{\"name\":\"f\",\"parameters\":12}", "{\"name\":\"f\",\"parameters\":12", "{\"name\":\"f\",\"parameters\":true} x",
            "{\"name\":\"f\",\"parameters\":nul", "{\"name\":\"\\u0066\\\"\",\"parameters\":false}",
            "{\"parameters\":{\"a\":\"}\"},\"name\":\"f\"};{\"name\":\"g\"}", "[{\"name\":\"f\",\"parameters\":{}},1]",
            "  [{\"name\":\"f\",\"parameters\":{}}]", "x [{\"name\":\"f\",\"parameters\":{}}]",
            "[{\"name\":\"f\",\"parameters\":\"a\\\"b\"}, {\"name\":\"g\",\"parameters\":-1.5e3}]",
            "[{\"name\":\"f\"},{\"name\":\"g\",\"parameters\":[1,{\"x\":\"]\"}]}]",
            "<tool_call>{\"name\": \"f\", \"arguments\": {}} x</tool_call>",
            "<tool_call>{\"name\": \"f\", \"arguments\": \"{}\"}</tool_call><tool_call>{\"name\": 1}</tool_call>",
            "[TOOL_CALLS][{\"name\": \"f\", \"arguments\": {}}] [TOOL_CALLS][{\"name\": \"g\"}]",
            "<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": 1}, \"name\": \"g\"}</tool_call>",
            "<tool_call>{\"name\": \"f\", \"arguments\": {\"a\": 1}, \"arguments\": {\"b\": 2}}</tool_call>",
            "{\"name\":\"f\",\"arguments\":{\"a\":1},\"parameters\":{\"b\":2}}",
            "<tool_call>{\"name\": \"f\", \"arguments\": }</tool_call> tail",
            "<tool_call>{\"name\": \"f\", \"arguments\": \"a\nb\"}</tool_call>", "<tool_call>{\"name\": \"f\", \"arguments\": \"\\q\"}</tool_call>",
            "[TOOL_CALLS][{\"name\": \"f\", \"arguments\": {}}, {\"name\": \"g",
            "<tool_call>{\"name\": \"f\", \"arguments\": \"{\\\"a\\\": \\\"x\\u00",
        };
        List<String> wrong = new ArrayList<>();
        for (String text : texts) {
            for (ToolCallFormat f : List.of(ToolCallFormat.HERMES, ToolCallFormat.LLAMA3_JSON, ToolCallFormat.MISTRAL, ToolCallFormat.REQUIRED)) {
                for (int k = 0; k < text.length(); k++) {
                    try {
                        String whole = pieces(f, text);
                        String cut = pieces(f, text.substring(0, k), text.substring(k));
                        if (!cut.equals(whole)) wrong.add(f.name() + " cut at " + k + " of <" + text + ">: " + cut + " against " + whole);
                    } catch (RuntimeException e) {
                        wrong.add(f.name() + " cut at " + k + " of <" + text + ">: " + e);
                        break;
                    }
                }
            }
        }
        assertThat(wrong).isEmpty();
        // What these read as: not calls where the arguments are not JSON, a cut array's next element as text.
        for (int i = 18; i <= 20; i++) assertThat(pieces(ToolCallFormat.HERMES, texts[i])).isEqualTo("content <" + texts[i] + "> calls []");
        assertThat(pieces(ToolCallFormat.MISTRAL, texts[21])).isEqualTo("content <, {\"name\": \"g> calls [0:f|{}]");
        assertThat(pieces(ToolCallFormat.HERMES, texts[22])).as("arguments given as a string wait for it to close")
                .isEqualTo("content <" + texts[22] + "> calls []");
        assertThat(pieces(ToolCallFormat.HERMES, texts[15])).as("the first of repeated keys").isEqualTo("content <> calls [0:f|{\"a\": 1}]");
        assertThat(pieces(ToolCallFormat.HERMES, texts[16])).as("the first of repeated keys").isEqualTo("content <> calls [0:f|{\"a\": 1}]");
    }

    @Test
    void anyAnswerStreamedInAnyPiecesReadsAsTheWholeAnswer() {
        Random rnd = new Random(SEED);
        String[] parts = {"Hello", " ", "\n", "<", "<tool", "<tool_call>", "</tool_call>", "{", "}", "[", "]", ";",
                "{\"name\": \"f\", \"arguments\": {\"x\": \"a}b\\\"\"}}", "{\"name\": \"g\", \"parameters\": [1]}",
                "[{\"name\": \"h\", \"arguments\": {}}]", "[TOOL_CALLS]", "<|python_tag|>", "\"", "\\"};
        int withCalls = 0;
        for (int a = 0; a < 3000; a++) {
            StringBuilder answer = new StringBuilder();
            for (int k = rnd.nextInt(12); k >= 0; k--) answer.append(parts[rnd.nextInt(parts.length)]);
            String text = answer.toString();
            for (ToolCallFormat format : List.of(ToolCallFormat.HERMES, ToolCallFormat.LLAMA3_JSON, ToolCallFormat.MISTRAL,
                    ToolCallFormat.REQUIRED)) {
                ToolCallText.Whole whole = ToolCallText.read(format, text);
                ToolCallText streamed = new ToolCallText(format);
                List<ToolCallText.Piece> pieces = new ArrayList<>();
                for (int i = 0; i < text.length(); ) {
                    int j = Math.min(text.length(), i + 1 + rnd.nextInt(6));
                    pieces.addAll(streamed.feed(text.substring(i, j)));
                    i = j;
                }
                pieces.addAll(streamed.finish());
                StringBuilder content = new StringBuilder();
                List<StringBuilder> each = new ArrayList<>();
                for (ToolCallText.Piece p : pieces) {
                    if (p instanceof ToolCallText.Content c) {
                        assertThat(c.text()).isNotEmpty();
                        content.append(c.text());
                    } else if (p instanceof ToolCallText.CallStart c) {
                        assertThat(c.index()).isEqualTo(each.size());
                        each.add(new StringBuilder(c.call().function().name()));
                    } else {
                        ToolCallText.CallArguments args = (ToolCallText.CallArguments) p;
                        assertThat(args.index()).isEqualTo(each.size() - 1);
                        each.get(args.index()).append(args.text());
                    }
                }
                StringBuilder calls = new StringBuilder();
                for (StringBuilder c : each) calls.append(c).append(';');
                String where = "seed " + SEED + ", " + format.name() + ", <" + text + ">";
                assertThat(calls.toString()).as(where).isEqualTo(calls(whole));
                assertThat(whole.content() == null ? content.toString().isBlank() : content.toString().equals(whole.content()))
                        .as(where + ": content <" + content + "> against <" + whole.content() + ">").isTrue();
                if (whole.calls().isEmpty()) assertThat(whole.content()).as("nothing is lost, " + where).isEqualTo(text);
                else withCalls++;
            }
        }
        assertThat(withCalls).as("enough answers must hold calls").isGreaterThan(300);
    }
}
