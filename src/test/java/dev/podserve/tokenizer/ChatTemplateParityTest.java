package dev.podserve.tokenizer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import tools.jackson.databind.json.JsonMapper;

/**
 * Templates in the style of current chat models (tool calls, reasoning, header tokens, role
 * checks, whitespace without dashes) rendered by ChatTemplate and by Jinja itself: the expected
 * strings are what {@code tools/render_chat_template.py} (Jinja 3.1 set up as transformers sets it
 * up) printed for the same inputs, with bos_token {@code <s>} and eos_token {@code </s>}.
 */
class ChatTemplateParityTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    private static final String TOOLS = """
            {%- if tools %}
                {{- '<|im_start|>system\\n' }}
                {%- if messages[0]['role'] == 'system' %}
                    {{- messages[0]['content'] }}
                {%- else %}
                    {{- 'You are a helpful assistant.' }}
                {%- endif %}
                {{- "\\n\\n# Tools\\n\\n<tools>" }}
                {%- for tool in tools %}
                    {{- "\\n" }}
                    {{- tool | tojson }}
                {%- endfor %}
                {{- "\\n</tools><|im_end|>\\n" }}
            {%- elif messages[0]['role'] == 'system' %}
                {{- '<|im_start|>system\\n' + messages[0]['content'] + '<|im_end|>\\n' }}
            {%- endif %}
            {%- for message in messages %}
                {%- if message.role == "user" or (message.role == "system" and not loop.first) or (message.role == "assistant" and not message.tool_calls) %}
                    {{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n' }}
                {%- elif message.role == "assistant" %}
                    {{- '<|im_start|>' + message.role }}
                    {%- if message.content %}
                        {{- '\\n' + message.content }}
                    {%- endif %}
                    {%- for tool_call in message.tool_calls %}
                        {%- if tool_call.function is defined %}
                            {%- set tool_call = tool_call.function %}
                        {%- endif %}
                        {{- '\\n<tool_call>\\n{"name": "' }}
                        {{- tool_call.name }}
                        {{- '", "arguments": ' }}
                        {{- tool_call.arguments | tojson }}
                        {{- '}\\n</tool_call>' }}
                    {%- endfor %}
                    {{- '<|im_end|>\\n' }}
                {%- elif message.role == "tool" %}
                    {%- if (loop.index0 == 0) or (messages[loop.index0 - 1].role != "tool") %}
                        {{- '<|im_start|>user' }}
                    {%- endif %}
                    {{- '\\n<tool_response>\\n' }}
                    {{- message.content }}
                    {{- '\\n</tool_response>' }}
                    {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
                        {{- '<|im_end|>\\n' }}
                    {%- endif %}
                {%- endif %}
            {%- endfor %}
            {%- if add_generation_prompt %}
                {{- '<|im_start|>assistant\\n' }}
            {%- endif %}
            """;

    private static final String HEADER = """
            {{- bos_token }}
            {%- if messages[0]['role'] == 'system' %}
                {%- set system_message = messages[0]['content']|trim %}
                {%- set messages = messages[1:] %}
            {%- else %}
                {%- set system_message = "" %}
            {%- endif %}
            {{- "<|start_header_id|>system<|end_header_id|>\\n\\n" }}
            {{- "Today Date: " + date_string + "\\n\\n" }}
            {%- if tools is not none and tools is defined %}
                {{- "Functions:\\n" }}
                {%- for t in tools %}
                    {{- t | tojson(indent=4) }}
                    {{- "\\n\\n" }}
                {%- endfor %}
            {%- endif %}
            {{- system_message }}
            {{- "<|eot_id|>" }}
            {%- for message in messages %}
                {%- if message.role in ['user', 'assistant'] %}
                    {{- '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'+ message['content'] | trim + '<|eot_id|>' }}
                {%- elif message.role == 'tool' %}
                    {{- "<|start_header_id|>ipython<|end_header_id|>\\n\\n" }}
                    {%- if message.content is mapping or message.content is iterable %}
                        {{- message.content | tojson }}
                    {%- else %}
                        {{- message.content }}
                    {%- endif %}
                    {{- "<|eot_id|>" }}
                {%- endif %}
            {%- endfor %}
            {%- if add_generation_prompt %}
                {{- '<|start_header_id|>assistant<|end_header_id|>\\n\\n' }}
            {%- endif %}
            """;

    private static final String ALTERNATE = """
            {{ bos_token }}{% for message in messages %}{% if (message['role'] == 'user') != (loop.index0 % 2 == 0) %}{{ raise_exception('Conversation roles must alternate user/assistant/user/assistant/...') }}{% endif %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] + ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ message['content'] + eos_token}}{% else %}{{ raise_exception('Only user and assistant roles are supported!') }}{% endif %}{% endfor %}
            """;

    private static final String THINKING = """
            {%- set ns = namespace(last_query=messages|length - 1) %}
            {%- for message in messages[::-1] %}
                {%- set index = (messages|length - 1) - loop.index0 %}
                {%- if ns.last_query == messages|length - 1 and message.role == "user" and not message.content.startswith('<tool_response>') %}
                    {%- set ns.last_query = index %}
                {%- endif %}
            {%- endfor %}
            {%- for message in messages %}
                {%- set content = message.content %}
                {%- if message.role == "assistant" %}
                    {%- set reasoning = '' %}
                    {%- if '</think>' in content %}
                        {%- set reasoning = content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') %}
                        {%- set content = content.split('</think>')[-1].lstrip('\\n') %}
                    {%- endif %}
                    {%- if loop.index0 > ns.last_query and reasoning %}
                        {{- '<|im_start|>assistant\\n<think>\\n' + reasoning.strip('\\n') + '\\n</think>\\n\\n' + content.lstrip('\\n') + '<|im_end|>\\n' }}
                    {%- else %}
                        {{- '<|im_start|>assistant\\n' + content + '<|im_end|>\\n' }}
                    {%- endif %}
                {%- else %}
                    {{- '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>\\n' }}
                {%- endif %}
            {%- endfor %}
            {%- if add_generation_prompt %}
                {{- '<|im_start|>assistant\\n' }}
                {%- if enable_thinking is defined and enable_thinking is false %}
                    {{- '<think>\\n\\n</think>\\n\\n' }}
                {%- endif %}
            {%- endif %}
            """;

    private static final String PLAIN = """
            {% for message in messages %}
                <|im_start|>{{ message.role | upper }}
            {{ message.content }}<|im_end|>
            {% if not loop.last %}
            ---
            {% endif %}
            {% endfor %}
            {% if add_generation_prompt %}
            <|im_start|>ASSISTANT
            {% endif %}
            """;

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of(TOOLS, true,
                        "{\"messages\": [{\"role\": \"system\", \"content\": \"Sys prompt.\"}, {\"role\": \"user\", \"content\": \"Weather in Paris? \\\"quotes\\\" \\u00e9 \\ud83d\\ude00\"}, {\"role\": \"assistant\", \"content\": \"\", \"tool_calls\": [{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"c\"}}}]}, {\"role\": \"tool\", \"content\": \"{\\\"temp\\\": 21}\"}, {\"role\": \"tool\", \"content\": \"second\"}, {\"role\": \"assistant\", \"content\": \"It is 21.\"}, {\"role\": \"user\", \"content\": \"thanks\"}], \"extra\": {\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Get weather\\nfor a city\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}, \"unit\": {\"type\": \"string\", \"enum\": [\"c\", \"f\"]}}, \"required\": [\"city\"]}}}]}}",
                        "<|im_start|>system\nSys prompt.\n\n# Tools\n\n<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"get_weather\", \"description\": \"Get weather\\nfor a city\", \"parameters\": {\"type\": \"object\", \"properties\": {\"city\": {\"type\": \"string\"}, \"unit\": {\"type\": \"string\", \"enum\": [\"c\", \"f\"]}}, \"required\": [\"city\"]}}}\n</tools><|im_end|>\n<|im_start|>user\nWeather in Paris? \"quotes\" \u00e9 \ud83d\ude00<|im_end|>\n<|im_start|>assistant\n<tool_call>\n{\"name\": \"get_weather\", \"arguments\": {\"city\": \"Paris\", \"unit\": \"c\"}}\n</tool_call><|im_end|>\n<|im_start|>user\n<tool_response>\n{\"temp\": 21}\n</tool_response>\n<tool_response>\nsecond\n</tool_response><|im_end|>\n<|im_start|>assistant\nIt is 21.<|im_end|>\n<|im_start|>user\nthanks<|im_end|>\n<|im_start|>assistant\n"),
                Arguments.of(TOOLS, false,
                        "{\"messages\": [{\"role\": \"system\", \"content\": \"S\"}, {\"role\": \"user\", \"content\": \"u\"}], \"extra\": {}}",
                        "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nu<|im_end|>\n"),
                Arguments.of(HEADER, true,
                        "{\"messages\": [{\"role\": \"system\", \"content\": \"  You are a bot.  \"}, {\"role\": \"user\", \"content\": \" hi \"}, {\"role\": \"assistant\", \"content\": \"hello\"}, {\"role\": \"tool\", \"content\": {\"b\": 1, \"a\": [1.5, null, true]}}, {\"role\": \"user\", \"content\": \"x\"}], \"extra\": {\"date_string\": \"26 Jul 2024\", \"tools\": [{\"name\": \"f\", \"parameters\": {\"z\": 1, \"a\": {}}, \"list\": []}]}}",
                        "<s><|start_header_id|>system<|end_header_id|>\n\nToday Date: 26 Jul 2024\n\nFunctions:\n{\n    \"name\": \"f\",\n    \"parameters\": {\n        \"z\": 1,\n        \"a\": {}\n    },\n    \"list\": []\n}\n\nYou are a bot.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nhello<|eot_id|><|start_header_id|>ipython<|end_header_id|>\n\n{\"b\": 1, \"a\": [1.5, null, true]}<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nx<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n"),
                Arguments.of(HEADER, false,
                        "{\"messages\": [{\"role\": \"user\", \"content\": \"only user\"}], \"extra\": {\"date_string\": \"1 Jan 2025\"}}",
                        "<s><|start_header_id|>system<|end_header_id|>\n\nToday Date: 1 Jan 2025\n\n<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nonly user<|eot_id|>"),
                Arguments.of(ALTERNATE, true,
                        "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"assistant\", \"content\": \"b\"}, {\"role\": \"user\", \"content\": \"c\"}], \"extra\": {}}",
                        "<s>[INST] a [/INST]b</s>[INST] c [/INST]"),
                Arguments.of(THINKING, true,
                        "{\"messages\": [{\"role\": \"user\", \"content\": \"q1\"}, {\"role\": \"assistant\", \"content\": \"<think>\\nreason1\\n</think>\\n\\nans1\"}, {\"role\": \"user\", \"content\": \"q2\"}, {\"role\": \"assistant\", \"content\": \"<think>\\nreason2\\n</think>\\n\\nans2\"}, {\"role\": \"user\", \"content\": \"<tool_response>r</tool_response>\"}], \"extra\": {\"enable_thinking\": false}}",
                        "<|im_start|>user\nq1<|im_end|>\n<|im_start|>assistant\nans1<|im_end|>\n<|im_start|>user\nq2<|im_end|>\n<|im_start|>assistant\n<think>\nreason2\n</think>\n\nans2<|im_end|>\n<|im_start|>user\n<tool_response>r</tool_response><|im_end|>\n<|im_start|>assistant\n<think>\n\n</think>\n\n"),
                Arguments.of(THINKING, true,
                        "{\"messages\": [{\"role\": \"user\", \"content\": \"q1\"}, {\"role\": \"assistant\", \"content\": \"<think>\\nr\\n</think>\\nfinal\"}], \"extra\": {}}",
                        "<|im_start|>user\nq1<|im_end|>\n<|im_start|>assistant\n<think>\nr\n</think>\n\nfinal<|im_end|>\n<|im_start|>assistant\n"),
                Arguments.of(PLAIN, true,
                        "{\"messages\": [{\"role\": \"system\", \"content\": \"s\"}, {\"role\": \"user\", \"content\": \"u\"}], \"extra\": {}}",
                        "    <|im_start|>SYSTEM\ns<|im_end|>\n---\n    <|im_start|>USER\nu<|im_end|>\n<|im_start|>ASSISTANT\n"),
                Arguments.of(PLAIN, false,
                        "{\"messages\": [{\"role\": \"user\", \"content\": \"u\"}], \"extra\": {}}",
                        "    <|im_start|>USER\nu<|im_end|>\n"));
    }

    @ParameterizedTest
    @MethodSource("cases")
    @SuppressWarnings("unchecked")
    void rendersAsJinjaDoes(String template, boolean addGenerationPrompt, String inputJson, String expected) {
        Map<String, Object> input = JSON.readValue(inputJson, Map.class);
        String rendered = new ChatTemplate(template, "<s>", "</s>").render(
                (List<Map<String, Object>>) input.get("messages"), addGenerationPrompt,
                (Map<String, Object>) input.get("extra"));
        assertThat(rendered).isEqualTo(expected);
    }
}
