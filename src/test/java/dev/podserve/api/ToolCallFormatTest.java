package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.podserve.engine.ServingModel;
import dev.podserve.engine.TinyModel;
import dev.podserve.structured.ValueTriggers;
import dev.podserve.tokenizer.ChatTemplate;

import tools.jackson.databind.json.JsonMapper;

/** Which tool-call format a model writes, told from its chat template or configured, and how its openers are matched. */
class ToolCallFormatTest {

    private static ServingModel withTemplate(String template) {
        return new ServingModel("m", "m", null, null, null, template == null ? null : new ChatTemplate(template, null, null), null,
                "test", 0);
    }

    @Test
    void theTemplateTellsTheFormatAndConfigurationOverridesIt() {
        String qwen = "{%- for m in messages %}{{ m.content }}{%- endfor %}{{- '<tool_call>\\n' }}";
        String llama = "{%- if builtin_tools %}{{- '<|python_tag|>' }}{%- endif %}{{ messages[0].content }}";
        String mistral = "{%- for m in messages %}{{ '[TOOL_CALLS]' if m.tool_calls }}{%- endfor %}";
        assertThat(ToolCallFormat.of(withTemplate(qwen), "auto")).isEqualTo(ToolCallFormat.HERMES);
        assertThat(ToolCallFormat.of(withTemplate(llama), "auto")).isEqualTo(ToolCallFormat.LLAMA3_JSON);
        assertThat(ToolCallFormat.of(withTemplate(mistral), "auto")).isEqualTo(ToolCallFormat.MISTRAL);
        assertThat(ToolCallFormat.of(withTemplate("{{ messages[0].content }}"), "auto")).as("no known opener").isNull();
        assertThat(ToolCallFormat.of(withTemplate(null), "auto")).as("no template").isNull();
        assertThat(ToolCallFormat.of(withTemplate(qwen), "none")).isNull();
        assertThat(ToolCallFormat.of(withTemplate(qwen), "mistral")).isEqualTo(ToolCallFormat.MISTRAL);
    }

    /**
     * Qwen3-Coder's templates write {@code <tool_call>} as Hermes' do, but XML inside it: a template
     * that writes {@code <function=} is qwen3_coder, told before Hermes is looked for.
     */
    @Test
    void aTemplateThatWritesXmlCallsIsQwen3CoderNotHermes() {
        String coder = "{%- for tool_call in message.tool_calls %}{{- '<tool_call>\\n<function=' + tool_call.name + '>\\n' }}"
                + "{%- for k, v in tool_call.arguments.items() %}{{- '<parameter=' + k + '>\\n' + v + '\\n</parameter>\\n' }}"
                + "{%- endfor %}{{- '</function>\\n</tool_call>' }}{%- endfor %}";
        assertThat(ToolCallFormat.of(withTemplate(coder), "auto")).isEqualTo(ToolCallFormat.QWEN3_CODER);
        assertThat(ToolCallFormat.of(withTemplate(coder), "hermes")).as("configured wins").isEqualTo(ToolCallFormat.HERMES);
        String qwen = "{%- for m in messages %}{{ m.content }}{%- endfor %}{{- '<tool_call>\\n' }}";
        assertThat(ToolCallFormat.of(withTemplate(qwen), "qwen3_coder")).isEqualTo(ToolCallFormat.QWEN3_CODER);
        assertThat(ToolCallFormat.of(withTemplate(qwen), "auto")).isEqualTo(ToolCallFormat.HERMES);
    }

    /**
     * ByteDance Seed-OSS's template writes {@code <function=} and {@code <parameter=} too, but inside
     * {@code <seed:tool_call>}: read as qwen3_coder, its calls (opened by {@code <seed:tool_call>}, never by
     * {@code <tool_call>}) would all come back as content. Such a template writes no known opener: no format,
     * as before qwen3_coder was known (tool_choice auto is then a 400 that says so).
     */
    @Test
    void aTemplateThatWritesFunctionTagsInsideAnotherOpenerIsNotQwen3Coder() {
        String seedOss = "{%- set toolcall_begin_token = '<seed:tool_call>' -%}{%- set toolcall_end_token = '</seed:tool_call>' -%}"
                + "{%- for tool_call in message.tool_calls %}{{ '\\n' + toolcall_begin_token + '\\n<function=' + tool_call.name + '>\\n' }}"
                + "{%- for k, v in tool_call.arguments | items %}{{ '<parameter=' + k + '>' }}{{ v + '</parameter>\\n' }}{%- endfor %}"
                + "{{ '</function>\\n' + toolcall_end_token }}{%- endfor %}";
        assertThat(ToolCallFormat.of(withTemplate(seedOss), "auto")).isNull();
    }

    /**
     * Mistral's v11 templates write {@code [TOOL_CALLS]} as the old ones do, but the name before
     * {@code [ARGS]} and the arguments after it: such a template is mistral_v11, told before mistral;
     * one of v0.3's, which writes the call list as JSON after {@code [TOOL_CALLS]}, stays mistral.
     */
    @Test
    void aTemplateThatWritesArgsIsMistralV11AndTheOldArrayFormStaysMistral() {
        String v11 = "{%- for message in messages %}{%- if message.tool_calls %}{%- for tool_call in message.tool_calls %}"
                + "{{- '[TOOL_CALLS]' + tool_call.function.name + '[ARGS]' + tool_call.function.arguments|tojson }}"
                + "{%- endfor %}{{- eos_token }}{%- else %}{{- message.content }}{%- endif %}{%- endfor %}";
        assertThat(ToolCallFormat.of(withTemplate(v11), "auto")).isEqualTo(ToolCallFormat.MISTRAL_V11);
        String withId = "{%- for tool_call in message.tool_calls %}{{- '[TOOL_CALLS]' + tool_call.function.name + '[CALL_ID]'"
                + " + tool_call.id + '[ARGS]' + tool_call.function.arguments|tojson }}{%- endfor %}";
        assertThat(ToolCallFormat.of(withTemplate(withId), "auto")).isEqualTo(ToolCallFormat.MISTRAL_V11);
        String v03 = "{%- for message in messages %}{%- if message.tool_calls is defined and message.tool_calls is not none %}"
                + "{{- '[TOOL_CALLS][' }}{%- for tool_call in message.tool_calls %}{%- set out = tool_call.function|tojson %}"
                + "{{- out[:-1] + ', \"id\": \"' + tool_call.id + '\"}' }}{%- if not loop.last %}{{- ', ' }}{%- else %}"
                + "{{- ']' + eos_token }}{%- endif %}{%- endfor %}{%- else %}{{- message.content }}{%- endif %}{%- endfor %}";
        assertThat(ToolCallFormat.of(withTemplate(v03), "auto")).isEqualTo(ToolCallFormat.MISTRAL);
        assertThat(ToolCallFormat.of(withTemplate(v03), "mistral_v11")).as("configured wins").isEqualTo(ToolCallFormat.MISTRAL_V11);
        assertThat(ToolCallFormat.of(withTemplate(v11), "mistral")).as("configured wins").isEqualTo(ToolCallFormat.MISTRAL);
        assertThat(ToolCallFormat.MISTRAL_V11.newId()).matches("[A-Za-z0-9]{9}");
    }

    /**
     * No grammar binds mistral_v11's calls (their name is plain text, not JSON); forced calls keep
     * podserve's JSON forms, and required's calls keep Mistral's short ids.
     */
    @Test
    void autoWithMistralV11CallsIsReadUnboundAndForcedCallsStayJson() {
        Object tools = List.of(java.util.Map.of("type", "function", "function", java.util.Map.of("name", "f")));
        var json = JsonMapper.builder().build();
        ToolChoices.Plan auto = ToolChoices.parse(tools, "auto", null, json, ToolCallFormat.MISTRAL_V11, TinyModel.TOKENIZER);
        assertThat(auto.mode()).isEqualTo(ToolChoices.Mode.AUTO);
        assertThat(auto.grammar()).isNull();
        assertThat(auto.reader()).isInstanceOf(MistralCallText.class);
        ToolChoices.Plan one = ToolChoices.parse(tools, "auto", false, json, ToolCallFormat.MISTRAL_V11, TinyModel.TOKENIZER);
        assertThat(one.maxCalls()).isEqualTo(1);
        assertThat(ToolCallText.read(one.reader(), "[TOOL_CALLS]f[ARGS]{}[TOOL_CALLS]f[ARGS]{}").calls()).hasSize(1);
        ToolChoices.Plan required = ToolChoices.parse(tools, "required", null, json, ToolCallFormat.MISTRAL_V11, TinyModel.TOKENIZER);
        assertThat(required.grammar()).isNotNull();
        assertThat(required.format().shortIds()).isTrue();
        assertThat(required.reader()).isInstanceOf(ToolCallText.class);
        assertThat(ToolCallText.read(required.reader(), "[{\"name\": \"f\", \"parameters\": {}}]").calls().get(0).id())
                .matches("[A-Za-z0-9]{9}");
        ToolChoices.Plan named = ToolChoices.parse(tools, java.util.Map.of("type", "function", "function", java.util.Map.of("name", "f")),
                null, json, ToolCallFormat.MISTRAL_V11, TinyModel.TOKENIZER);
        assertThat(named.mode()).isEqualTo(ToolChoices.Mode.NAMED);
        assertThat(named.grammar()).isNotNull();
        assertThat(ToolCallFormat.MISTRAL.bound()).as("the old array form stays bound").isTrue();
        assertThat(ToolChoices.parse(tools, "auto", null, json, ToolCallFormat.MISTRAL, TinyModel.TOKENIZER).grammar()).isNotNull();
    }

    /** No grammar binds qwen3_coder's calls (there is no JSON to bind); forced calls are podserve's JSON whatever the format. */
    @Test
    void autoWithXmlCallsIsReadUnboundAndForcedCallsStayJson() {
        Object tools = List.of(java.util.Map.of("type", "function", "function", java.util.Map.of("name", "f")));
        var json = JsonMapper.builder().build();
        ToolChoices.Plan auto = ToolChoices.parse(tools, "auto", null, json, ToolCallFormat.QWEN3_CODER, TinyModel.TOKENIZER);
        assertThat(auto.mode()).isEqualTo(ToolChoices.Mode.AUTO);
        assertThat(auto.grammar()).isNull();
        assertThat(auto.reader()).isInstanceOf(XmlCallText.class);
        assertThat(ToolChoices.parse(tools, "auto", false, json, ToolCallFormat.QWEN3_CODER, TinyModel.TOKENIZER).maxCalls()).isEqualTo(1);
        ToolChoices.Plan required = ToolChoices.parse(tools, "required", null, json, ToolCallFormat.QWEN3_CODER, TinyModel.TOKENIZER);
        assertThat(required.grammar()).isNotNull();
        assertThat(required.format()).isEqualTo(ToolCallFormat.REQUIRED);
        assertThat(required.reader()).isInstanceOf(ToolCallText.class);
        ToolChoices.Plan named = ToolChoices.parse(tools, java.util.Map.of("type", "function", "function", java.util.Map.of("name", "f")),
                null, json, ToolCallFormat.QWEN3_CODER, TinyModel.TOKENIZER);
        assertThat(named.mode()).isEqualTo(ToolChoices.Mode.NAMED);
        assertThat(named.grammar()).isNotNull();
    }

    @Test
    void anOpenerTheTokenizerHasAsASpecialTokenIsMatchedByIdAndKeptInTheText() {
        ToolCallFormat f = new ToolCallFormat("test", List.of("<|im_start|>", "<call>"), false, null, "arguments", false, null);
        ValueTriggers t = f.triggers(TinyModel.TOKENIZER);
        assertThat(t.tokens()).containsExactly(TinyModel.TOKENIZER.tokenId("<|im_start|>").getAsInt());
        // Every opener as text too: spelled in ordinary tokens, it is still what the reader finds.
        assertThat(t.texts().stream().map(b -> new String(b, StandardCharsets.UTF_8))).containsExactly("<|im_start|>", "<call>");
        assertThat(f.opensWithSpecialToken(TinyModel.TOKENIZER)).isTrue();
        assertThat(ToolCallFormat.HERMES.opensWithSpecialToken(TinyModel.TOKENIZER)).as("<tool_call> is text here").isFalse();
    }

    @Test
    void autoWithAModelWhoseFormatIsNotKnownIsA400ThatSaysWhatWorks() {
        Object tools = List.of(java.util.Map.of("type", "function", "function", java.util.Map.of("name", "f")));
        var json = JsonMapper.builder().build();
        assertThatThrownBy(() -> ToolChoices.parse(tools, null, null, json, null, TinyModel.TOKENIZER))
                .isInstanceOfSatisfying(ApiException.class, e -> {
                    assertThat(e.param()).isEqualTo("tool_choice");
                    assertThat(e.getMessage()).contains("podserve.model.tool-call-format").contains("\"required\"");
                });
        assertThat(ToolChoices.parse(tools, null, null, json, ToolCallFormat.HERMES, TinyModel.TOKENIZER).mode())
                .as("auto is the default with tools").isEqualTo(ToolChoices.Mode.AUTO);
    }
}
