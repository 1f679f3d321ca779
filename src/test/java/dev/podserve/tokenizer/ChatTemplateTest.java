package dev.podserve.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.LocalDate;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ChatTemplateTest {

    private static final List<Map<String, Object>> CHAT = List.of(
            Map.of("role", "system", "content", "You are terse."),
            Map.of("role", "user", "content", "Hi there"),
            Map.of("role", "assistant", "content", "Hello."));

    private final ChatTemplate tiny = new ChatTemplate(TestTokenizers.tiny().chatTemplate().orElseThrow(),
            TestTokenizers.tiny().bosToken(), TestTokenizers.tiny().eosToken());

    @Test
    void tinyTemplateRendersChatMl() {
        String chatMl = "<|im_start|>system\nYou are terse.<|im_end|>\n"
                + "<|im_start|>user\nHi there<|im_end|>\n"
                + "<|im_start|>assistant\nHello.<|im_end|>\n";
        assertThat(tiny.render(CHAT, false, Map.of())).isEqualTo(chatMl);
        assertThat(tiny.render(CHAT, true, null)).isEqualTo(chatMl + "<|im_start|>assistant\n");
        assertThat(tiny.render(List.of(), true, null)).isEqualTo("<|im_start|>assistant\n");
    }

    @Test
    void tinyTemplateRejectsOtherRoles() {
        List<Map<String, Object>> chat = List.of(Map.of("role", "critic", "content", "42"));
        assertThatThrownBy(() -> tiny.render(chat, true, null))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessage("podserve-tiny supports the roles system, user, assistant and tool, not critic");
    }

    /** The tools as JSON lines in a system turn first; an assistant's calls after its text; tool answers as their own turns. */
    @Test
    void tinyTemplateRendersToolsCallsAndAnswers() {
        Map<String, Object> tool = new java.util.LinkedHashMap<>();
        tool.put("type", "function");
        tool.put("function", Map.of("name", "f"));
        Map<String, Object> function = new java.util.LinkedHashMap<>();
        function.put("name", "f");
        function.put("arguments", Map.of("x", 1));
        List<Map<String, Object>> chat = List.of(Map.of("role", "user", "content", "Go"),
                Map.of("role", "assistant", "content", "", "tool_calls",
                        List.of(Map.of("id", "c1", "type", "function", "function", function))),
                Map.of("role", "tool", "content", "42", "tool_call_id", "c1"));
        assertThat(tiny.render(chat, true, Map.of("tools", List.of(tool)))).isEqualTo(
                "<|im_start|>system\nTools:\n{\"type\": \"function\", \"function\": {\"name\": \"f\"}}\n<|im_end|>\n"
                        + "<|im_start|>user\nGo<|im_end|>\n"
                        + "<|im_start|>assistant\n<tool_call>{\"name\": \"f\", \"arguments\": {\"x\": 1}}</tool_call><|im_end|>\n"
                        + "<|im_start|>tool\n42<|im_end|>\n<|im_start|>assistant\n");
    }

    @Test
    void raiseExceptionCarriesTheTemplatesMessage() {
        ChatTemplate t = new ChatTemplate("""
                {%- for m in messages %}
                  {%- if (m['role'] == 'user') != (loop.index0 % 2 == 0) %}
                    {{- raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}
                  {%- endif %}
                  {{- m['content'] }}
                {%- endfor %}""", null, null);
        assertThat(t.render(List.of(Map.of("role", "user", "content", "a")), false, null)).isEqualTo("a");
        assertThatThrownBy(() -> t.render(List.of(Map.of("role", "assistant", "content", "a")), false, null))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessage("Conversation roles must alternate user/assistant/user/assistant/...");
    }

    @ParameterizedTest
    @ValueSource(strings = {"{% if %}x{% endif %}", "{% for m in messages %}no end", "{{ 1 + }}", "{% endif %}",
            "{{ messages | no_such_filter }}", "{% if messages is no_such_test %}{% endif %}", "{% no_such_tag %}",
            "{{ no_such_function(1) }}", "{{ messages[0].content.no_such_method() }}"})
    void brokenTemplatesFailAsChatTemplateException(String template) {
        ChatTemplate t = new ChatTemplate(template, null, null);
        assertThatThrownBy(() -> t.render(CHAT, true, null))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessageMatching("(?s).*\\S.*");
    }

    @Test
    void unknownFilterIsNamed() {
        ChatTemplate t = new ChatTemplate("{{ 'x' | shout }}", null, null);
        assertThatThrownBy(() -> t.render(CHAT, true, null)).hasMessageContaining("'shout'");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiterString = " => ", quoteCharacter = '`', value = {
            "{{ s.startswith('  Hel') }} {{ s.startswith('Hel') }} {{ s.startswith(('x', '  H')) }} => True False True",
            "{{ s.endswith('! ') }} {{ s.endswith('!') }} {{ 'abc'.endswith('b', 0, 2) }} => True False True",
            "[{{ s.strip() }}] [{{ 'xxhixx'.strip('x') }}] [{{ w.strip() }}] => [Hello, World!] [hi] [a]",
            "[{{ s.lstrip() }}] [{{ 'xyhi'.lstrip('yx') }}] => [Hello, World! ] [hi]",
            "[{{ s.rstrip() }}] [{{ 'hi\\n\\n'.rstrip('\\n') }}] => [  Hello, World!] [hi]",
            "{{ s.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a b c'.split(' ', 1) }} => ['Hello,', 'World!'] ['a', 'b', '', 'c'] ['a', 'b c']",
            "{{ 'x</think>y</think>z'.split('</think>')[-1] }} {{ 'a.b'.split('.')[0] }} {{ 'a.b'.split('.') | length }} => z a 2",
            "{{ s.upper() }} {{ s.lower() }} => `  HELLO, WORLD!    hello, world! `",
            "{{ s.replace('l', 'L') }} => `  HeLLo, WorLd! `",
            "{{ 'aaaa'.replace('a', 'b', 2) }} {{ 'a.b'.replace('.', '') }} => bbaa ab",
            "{{ \"hello wORLD, it's 3rd\".title() }} => Hello World, It'S 3Rd",
            "{{ 'hELLO there'.capitalize() }} => Hello there",
            "{{ ', '.join(['a', 'b', 'c']) }} [{{ '-'.join([]) }}] => a, b, c []",
            "{{ s.strip().lower().startswith('hello') }} => True"})
    void pythonStringMethods(String template, String expected) {
        ChatTemplate t = new ChatTemplate(template, null, null);
        String rendered = t.render(List.of(), false, Map.of("s", "  Hello, World! ", "w", "\t\n a \u00a0"));
        assertThat(rendered.replace("true", "True").replace("false", "False")).isEqualTo(expected);
    }

    @Test
    void tojsonKeepsKeyOrderAndPythonSpacing() {
        Map<String, Object> parameters = new LinkedHashMap<>();
        parameters.put("type", "object");
        parameters.put("required", List.of("city"));
        Map<String, Object> tool = new LinkedHashMap<>();
        tool.put("name", "get_weather");
        tool.put("description", "Weather \"now\"\nin é 😀");
        tool.put("parameters", parameters);
        tool.put("weights", List.of(0.5, 1.0, 1e-7, 1e16, 3));
        tool.put("strict", true);
        tool.put("default", null);
        tool.put("empty", Map.of());
        Map<String, Object> extra = Map.of("tools", List.of(tool));

        assertThat(new ChatTemplate("{{ tools[0] | tojson }}", null, null).render(List.of(), false, extra))
                .isEqualTo("{\"name\": \"get_weather\", \"description\": \"Weather \\\"now\\\"\\nin é 😀\", "
                        + "\"parameters\": {\"type\": \"object\", \"required\": [\"city\"]}, "
                        + "\"weights\": [0.5, 1.0, 1e-07, 1e+16, 3], \"strict\": true, \"default\": null, \"empty\": {}}");
        assertThat(new ChatTemplate("{{ tools[0].parameters | tojson(indent=2) }}", null, null).render(List.of(), false, extra))
                .isEqualTo("{\n  \"type\": \"object\",\n  \"required\": [\n    \"city\"\n  ]\n}");
        assertThat(new ChatTemplate("{{ tools[0].parameters | tojson(sort_keys=true) }}", null, null).render(List.of(), false, extra))
                .isEqualTo("{\"required\": [\"city\"], \"type\": \"object\"}");
        assertThat(new ChatTemplate("{{ 'é\u0001' | tojson(ensure_ascii=true) }}", null, null).render(List.of(), false, extra))
                .isEqualTo("\"\\u00e9\\u0001\"");
    }

    @Test
    void messageTextIsNeverEvaluated() {
        String content = "{{ raise_exception('x') }} {% if %} {# c #}";
        List<Map<String, Object>> chat = List.of(Map.of("role", "user", "content", content));
        assertThat(tiny.render(chat, false, null)).isEqualTo("<|im_start|>user\n" + content + "<|im_end|>\n");
    }

    @Test
    void operatorPrecedenceFollowsJinja() {
        Map<String, Object> vars = Map.of("a", 1, "b", 2, "xs", List.of(1, 2, 3));
        assertThat(render("{% if not a == b %}yes{% endif %}", vars)).isEqualTo("yes");
        assertThat(render("{{ 'yes' if not missing is defined else 'no' }}", vars)).isEqualTo("yes");
        assertThat(render("{{ 'yes' if not xs|length else 'no' }}", vars)).isEqualTo("no");
        assertThat(render("{% set ns = namespace(last=xs|length - 1, flag=a < b) %}{{ ns.last }} {{ ns.flag }}", vars))
                .isEqualTo("2 True");
        assertThat(render("{% for x in xs[::-1] %}{{ x }}{% endfor %} {{ xs[1:] | length }}", vars)).isEqualTo("321 2");
        assertThat(render("{% if a is not none and not a in xs %}no{% else %}yes{% endif %}", vars)).isEqualTo("yes");
    }

    @Test
    void specialTokensExtraVariablesAndHelpers() {
        ChatTemplate t = new ChatTemplate(
                "{{ bos_token }}|{{ eos_token }}|{{ enable_thinking }}|{{ messages | length }}|{{ add_generation_prompt }}",
                "<s>", "</s>");
        Map<String, Object> extra = Map.of("enable_thinking", false, "messages", "shadowed");
        assertThat(t.render(CHAT, true, extra)).isEqualTo("<s>|</s>|False|3|True");
        assertThat(render("{% generation %}kept{% endgeneration %}", Map.of())).isEqualTo("kept");
        String today = render("{{ strftime_now('%Y-%m-%d') }}", Map.of());
        assertThat(today).isIn(LocalDate.now().minusDays(1).toString(), LocalDate.now().toString());
    }

    @Test
    void bosTokenMayBeAbsent() {
        assertThat(new ChatTemplate("[{{ bos_token }}]{% if eos_token is not defined %}undefined{% endif %}", null, null)
                .render(CHAT, false, null)).isEqualTo("[]undefined");
    }

    @Test
    void emptyTemplateIsRejectedUpFront() {
        assertThatThrownBy(() -> new ChatTemplate(" ", null, null)).isInstanceOf(IllegalArgumentException.class);
    }

    private static Map<String, Object> msg(String role, String content) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("role", role);
        m.put("content", content);
        return m;
    }

    /**
     * Llama 3.1-3.3's own test for how a tool result is written: a string is iterable in Python, so
     * it goes through tojson as a JSON string (Python jinja2 3.1.6, tools/render_chat_template.py).
     */
    @Test
    void aStringIsIterableAndASequenceAsInPython() {
        String template = "{%- for message in messages %}{%- if message.role == 'tool' %}"
                + "{%- if message.content is mapping or message.content is iterable %}{{- message.content | tojson }}"
                + "{%- else %}{{- message.content }}{%- endif %}{%- endif %}{%- endfor %}";
        Map<String, Object> tool = msg("tool", "{\"temp\": 21.5}");
        String out = new ChatTemplate(template, "<|begin_of_text|>", "<|eot_id|>").render(List.of(tool), false, Map.of());
        assertThat(out).isEqualTo("\"{\\\"temp\\\": 21.5}\"");
        // Python: str, list and dict are sequences; a number is neither.
        assertThat(render("{{ 'ab' is sequence }} {{ [1] is sequence }} {{ {'a': 1} is sequence }} {{ 3 is sequence }}"
                + " {{ 3 is iterable }} {{ x is iterable }}", Map.of("x", List.of(1))))
                .isEqualToIgnoringCase("true true true false false true");
    }

    /** Jinja's items filter: a mapping's pairs in order (Qwen3-Coder lists tool parameters with it). */
    @Test
    void theItemsFilterGivesAMappingsPairsInOrder() {
        String template = "{%- for tool in tools %}{%- for name, fields in tool.function.parameters.properties|items %}"
                + "<parameter={{ name }}>{{ fields.type }}</parameter>{% endfor %}{% endfor %}";
        Map<String, Object> props = new LinkedHashMap<>();
        props.put("location", Map.of("type", "string"));
        props.put("days", Map.of("type", "integer"));
        Map<String, Object> tool = Map.of("type", "function", "function",
                Map.of("name", "w", "parameters", Map.of("type", "object", "properties", props)));
        assertThat(render(template, Map.of("tools", List.of(tool))))
                .isEqualTo("<parameter=location>string</parameter><parameter=days>integer</parameter>");
        assertThat(render("{% for k, v in missing|items %}x{% endfor %}done", Map.of())).isEqualTo("done");
    }

    /** lstrip_blocks takes the blanks from a line's start to a block tag or comment, never those mid-line (Python jinja2). */
    @Test
    void lstripBlocksKeepsTheBlanksBeforeATagInTheMiddleOfALine() {
        String template = "{% for message in messages %}{{ message.role }}: {{ message.content }} {% endfor %}";
        assertThat(new ChatTemplate(template, "<s>", "</s>").render(List.of(msg("user", "Hi"), msg("assistant", "Yo")), false, Map.of()))
                .isEqualTo("user: Hi assistant: Yo ");
        assertThat(render("a {% if true %}b{% endif %}|a  {# c #}b", Map.of())).isEqualTo("a b|a  b");
        assertThat(render("x\n    {% if true %}\n  y\n    {% endif %}\n  {# c #}\nz", Map.of())).isEqualTo("x\n  y\nz");
        assertThat(render("x\r\n\t {% if true %}y{% endif %}", Map.of())).isEqualTo("x\r\ny");
        assertThat(render("x\n  {%+ if true %}y{% endif %}", Map.of())).as("{%+ keeps them").isEqualTo("x\n  y");
        // Only the template's text: not a string inside a tag, not a raw block's body.
        assertThat(render("{{ 'x\n  {% y' }}", Map.of())).isEqualTo("x\n  {% y");
        assertThat(render("{% raw %}\n  {% x %}\n{% endraw %}", Map.of())).contains("  {% x %}");
    }

    /** A huge count is refused, not wrapped round: n * length overflowed a long and passed the size check. */
    @Test
    void stringRepetitionRefusesCountsThatOverflow() {
        long n = (1L << 62) + (1L << 31);
        assertThatThrownBy(() -> render("{{ '  ' * n }}", Map.of("n", n)))
                .isInstanceOf(ChatTemplateException.class).hasMessageContaining("too long");
        assertThat(render("{{ '  ' * n }}|", Map.of("n", 3))).isEqualTo("      |");
    }

    private static String render(String template, Map<String, Object> vars) {
        return new ChatTemplate(template, null, null).render(List.of(), false, vars);
    }
}
