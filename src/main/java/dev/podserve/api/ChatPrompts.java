package dev.podserve.api;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import dev.podserve.api.dto.ChatMessage;
import dev.podserve.engine.ServingModel;
import dev.podserve.tokenizer.ChatTemplate;

/**
 * Chat messages to prompt tokens: checked, flattened to plain maps, rendered by the model's chat
 * template and tokenized without adding special tokens (the template already placed them).
 */
final class ChatPrompts {

    /** {@code developer} is OpenAI's newer name for {@code system}; templates only know the latter. */
    private static final Set<String> ROLES = Set.of("system", "developer", "user", "assistant", "tool");
    private static final tools.jackson.databind.ObjectMapper JSON = tools.jackson.databind.json.JsonMapper.builder().build();

    private ChatPrompts() {
    }

    static String render(ServingModel model, List<ChatMessage> messages, boolean addGenerationPrompt) {
        return render(model, messages, addGenerationPrompt, null);
    }

    /** @param tools the request's tools, for the template's {@code tools} variable; null: none */
    static String render(ServingModel model, List<ChatMessage> messages, boolean addGenerationPrompt, List<Map<String, Object>> tools) {
        return render(model, messages, addGenerationPrompt, tools, Map.of());
    }

    /** Variables a request may not set through {@code chat_template_kwargs}: the request's own fields set them. */
    private static final Set<String> RESERVED = Set.of("messages", "add_generation_prompt", "tools");

    /**
     * vLLM's {@code chat_template_kwargs}: further variables for the chat template, such as
     * Qwen3's {@code enable_thinking}. Null: none.
     */
    @SuppressWarnings("unchecked")
    static Map<String, Object> templateKwargs(Object raw) {
        if (raw == null) return Map.of();
        if (!(raw instanceof Map<?, ?> map)) {
            throw ApiException.badRequest("chat_template_kwargs", "chat_template_kwargs must be an object of template variables.");
        }
        for (Object key : map.keySet()) {
            if (RESERVED.contains(key)) {
                throw ApiException.badRequest("chat_template_kwargs", "chat_template_kwargs cannot set '" + key
                        + "': the request's own field sets it.");
            }
        }
        return (Map<String, Object>) map;
    }

    /**
     * Whether the template opens an assistant turn: {@code add_generation_prompt} (true when not
     * sent), which vLLM refuses beside {@code continue_final_message} (a turn cannot be both
     * continued and opened anew).
     */
    static boolean addGenerationPrompt(Boolean addGenerationPrompt, Boolean continueFinalMessage) {
        boolean add = addGenerationPrompt == null || addGenerationPrompt;
        if (add && Boolean.TRUE.equals(continueFinalMessage)) {
            throw ApiException.badRequest("continue_final_message",
                    "continue_final_message cannot be combined with add_generation_prompt; set add_generation_prompt to false.");
        }
        return add;
    }

    /**
     * @param tools  the request's tools, for the template's {@code tools} variable; null: none
     * @param kwargs further template variables ({@link #templateKwargs})
     */
    static String render(ServingModel model, List<ChatMessage> messages, boolean addGenerationPrompt, List<Map<String, Object>> tools,
                         Map<String, Object> kwargs) {
        return render(model, messages, addGenerationPrompt, tools, kwargs, false);
    }

    /**
     * @param continueFinalMessage vLLM's and transformers' {@code continue_final_message}: the prompt
     *                             ends where the last message's text does, without the end of turn
     *                             the template writes after it, so the model goes on with that message
     *                             (an answer prefilled by the client)
     */
    static String render(ServingModel model, List<ChatMessage> messages, boolean addGenerationPrompt, List<Map<String, Object>> tools,
                         Map<String, Object> kwargs, boolean continueFinalMessage) {
        if (messages == null || messages.isEmpty()) {
            throw ApiException.badRequest("messages", "messages must be a non-empty list.");
        }
        if (model.chatTemplate() == null) {
            throw ApiException.badRequest("messages", "The model '" + model.servedName()
                    + "' has no chat template; use /v1/completions or configure a template.");
        }
        List<Map<String, Object>> plain = new ArrayList<>(messages.size());
        for (int i = 0; i < messages.size(); i++) plain.add(plain(messages.get(i), i));
        Map<String, Object> extra = new LinkedHashMap<>(kwargs);
        if (tools != null) extra.put("tools", tools);
        ChatTemplate template = tools != null ? model.chatTemplate().forTools() : model.chatTemplate();
        String rendered = template.render(plain, addGenerationPrompt, extra);
        return continueFinalMessage ? endAtFinalMessage(rendered, plain.get(plain.size() - 1).get("content")) : rendered;
    }

    /**
     * Cuts the rendered chat after the last place the final message's text appears, as transformers
     * cuts it: after the text with its trailing blanks where the message has no leading ones and the
     * template wrote it whole, else after the stripped text (a template that trims the message).
     */
    private static String endAtFinalMessage(String rendered, Object content) {
        String text = content instanceof String s ? s : "";
        String core = text.strip();
        int at = core.isEmpty() ? -1 : rendered.lastIndexOf(core);
        if (at < 0) {
            throw ApiException.badRequest("continue_final_message", "continue_final_message needs the last message's text in the"
                    + " prompt to continue it, and the chat template " + (core.isEmpty() ? "has none to continue." : "did not write it."));
        }
        boolean writtenWhole = text.equals(text.stripLeading()) && rendered.startsWith(text, at);
        return rendered.substring(0, at + (writtenWhole ? text.length() : core.length()));
    }

    static int[] tokenIds(ServingModel model, List<ChatMessage> messages, boolean addGenerationPrompt) {
        return tokenIds(model, messages, addGenerationPrompt, null);
    }

    static int[] tokenIds(ServingModel model, List<ChatMessage> messages, boolean addGenerationPrompt, List<Map<String, Object>> tools) {
        return model.tokenizer().encodeNoSpecial(render(model, messages, addGenerationPrompt, tools));
    }

    private static Map<String, Object> plain(ChatMessage m, int i) {
        String at = "messages." + i;
        if (m == null) throw ApiException.badRequest(at, "messages[" + i + "] must be an object.");
        if (m.role() == null) throw ApiException.badRequest(at + ".role", "messages[" + i + "].role is required.");
        if (!ROLES.contains(m.role())) {
            throw ApiException.badRequest(at + ".role", "messages[" + i + "].role '" + m.role()
                    + "' is not supported; use system, developer, user, assistant or tool.");
        }
        if ("tool".equals(m.role()) && (m.toolCallId() == null || m.toolCallId().isEmpty())) {
            throw ApiException.badRequest(at + ".tool_call_id", "messages[" + i + "] is a tool message without the tool_call_id it answers.");
        }
        if (m.toolCalls() != null && !"assistant".equals(m.role())) {
            throw ApiException.badRequest(at + ".tool_calls", "messages[" + i + "]: only assistant messages carry tool_calls.");
        }
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("role", "developer".equals(m.role()) ? "system" : m.role());
        out.put("content", content(m, i));
        if (m.name() != null) out.put("name", m.name());
        if (m.toolCallId() != null) out.put("tool_call_id", m.toolCallId());
        // An empty list is no calls: templates that test for the key (Llama 3.1's) would take it for a call turn.
        if (m.toolCalls() != null && !m.toolCalls().isEmpty()) out.put("tool_calls", toolCalls(m.toolCalls(), i));
        // An assistant turn's thinking, under both names as vLLM hands it to templates (Qwen3's writes it back).
        String reasoning = m.reasoning() != null ? m.reasoning() : m.reasoningContent();
        if ("assistant".equals(m.role()) && reasoning != null) {
            out.put("reasoning", reasoning);
            out.put("reasoning_content", reasoning);
        }
        return out;
    }

    /**
     * An assistant turn's tool calls for the template, each function's {@code arguments} read from
     * its JSON text into a map where it is a JSON object, as HF chat templates expect (and vLLM
     * passes them).
     */
    private static List<Map<String, Object>> toolCalls(List<Map<String, Object>> calls, int i) {
        List<Map<String, Object>> out = new ArrayList<>(calls.size());
        for (Map<String, Object> call : calls) {
            if (call == null || !(call.get("function") instanceof Map<?, ?> f) || !(f.get("name") instanceof String)) {
                throw ApiException.badRequest("messages." + i + ".tool_calls",
                        "messages[" + i + "].tool_calls must be calls of the form {\"id\", \"type\": \"function\", \"function\": {\"name\", \"arguments\"}}.");
            }
            Map<String, Object> function = new LinkedHashMap<>();
            for (Map.Entry<?, ?> e : f.entrySet()) function.put(String.valueOf(e.getKey()), e.getValue());
            if (function.get("arguments") instanceof String text) {
                try {
                    Object parsed = JSON.readValue(text, Object.class);
                    if (parsed instanceof Map<?, ?>) function.put("arguments", parsed);
                    else if (parsed == null) function.put("arguments", new LinkedHashMap<>());
                } catch (RuntimeException e) {
                    // Not JSON: the template gets the text as it came; no text at all is no arguments.
                    if (text.isBlank()) function.put("arguments", new LinkedHashMap<>());
                }
            } else if (function.get("arguments") == null) {
                // Left out or null: no arguments, {} as vLLM hands them over.
                function.put("arguments", new LinkedHashMap<>());
            }
            Map<String, Object> copy = new LinkedHashMap<>(call);
            copy.put("function", function);
            out.add(copy);
        }
        return out;
    }

    /** A string, or OpenAI text parts joined by newlines as vLLM joins them. */
    private static String content(ChatMessage m, int i) {
        String at = "messages." + i + ".content";
        Object c = m.content();
        if (c == null) {
            if ("assistant".equals(m.role())) return "";
            throw ApiException.badRequest(at, "messages[" + i + "].content is required.");
        }
        if (c instanceof String s) return s;
        if (c instanceof List<?> parts) {
            StringBuilder text = new StringBuilder();
            for (int k = 0; k < parts.size(); k++) {
                if (!(parts.get(k) instanceof Map<?, ?> part) || !(part.get("type") instanceof String type)) {
                    throw ApiException.badRequest(at, "messages[" + i + "].content[" + k + "] must be a content part with a type.");
                }
                if (!"text".equals(type)) {
                    throw ApiException.badRequest(at, "Content parts of type '" + type + "' are not supported; only 'text' is.");
                }
                if (!(part.get("text") instanceof String s)) {
                    throw ApiException.badRequest(at, "messages[" + i + "].content[" + k + "].text must be a string.");
                }
                if (k > 0) text.append('\n');
                text.append(s);
            }
            return text.toString();
        }
        throw ApiException.badRequest(at, "messages[" + i + "].content must be a string or a list of content parts.");
    }
}
