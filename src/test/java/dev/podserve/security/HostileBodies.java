package dev.podserve.security;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Generates malformed and hostile requests, every one of which a correct server must refuse with a
 * 4xx: wrong types and out-of-range values for known fields, broken JSON, deep nesting, invalid
 * UTF-8, huge numbers and strings, unknown fields around an invalid request, wrong media types and
 * methods. Seeded, so a failure reproduces. Each generator only makes bodies that are invalid
 * whatever the random choices (no mutation that could by chance produce a valid request).
 *
 * <p>Written for the limits of the shared test server (ResilienceTestServer): n at most 4, 2 stop
 * strings, 8 logit_bias entries, max_tokens 512, 1024 prompt tokens, 4 prompts, 256 KB bodies.
 */
final class HostileBodies {

    record Case(String kind, String method, String path, String contentType, byte[] body) {
        String preview() {
            String s = new String(body, 0, Math.min(body.length, 160), StandardCharsets.UTF_8);
            return kind + " " + method + " " + path + " [" + body.length + " bytes] " + s.replace('\n', ' ');
        }
    }

    private static final String CHAT = "/v1/chat/completions";
    private static final String TEXT = "/v1/completions";
    private static final String JSON = "application/json";
    private static final String USER = "{\"role\":\"user\",\"content\":\"hi\"}";

    /** Known fields of a chat request and values each must refuse. */
    private static final String[][] CHAT_FIELDS = {
        {"messages", "5", "\"hello\"", "{}", "true", "[]", "[5]", "[\"x\"]", "[[]]", "null", "[{\"role\":\"user\"}]",
            "[{\"role\":\"user\",\"content\":5}]", "[{\"role\":\"user\",\"content\":{}}]", "[{\"role\":\"tool\",\"content\":\"x\"}]",
            "[{\"role\":\"wizard\",\"content\":\"x\"}]", "[{\"content\":\"x\"}]", "[null]",
            "[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"http://x\"}}]}]",
            "[{\"role\":\"user\",\"content\":[{\"text\":\"no type\"}]}]", "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":5}]}]",
            "[{\"role\":[],\"content\":\"x\"}]"},
        {"max_tokens", "\"many\"", "{}", "[]", "-1", "0", "513", "100000", "99999999999999999999", "1e30", "true"},
        {"max_completion_tokens", "-5", "0", "600", "\"x\"", "{}"},
        {"temperature", "\"hot\"", "{}", "[]", "-0.5", "2.5", "1e400", "\"NaN\"", "-1e400"},
        {"top_p", "-1", "0", "1.5", "\"x\"", "{}", "[0.5]"},
        {"top_k", "-2", "\"x\"", "{}", "1e20", "-100"},
        {"min_p", "-0.1", "1.1", "\"x\""},
        {"n", "0", "-1", "5", "1000000", "\"x\"", "{}", "[]"},
        {"stop", "5", "{}", "[1]", "[\"a\",\"b\",\"c\"]", "[\"\"]", "[null]", "true", "[[\"a\"]]", "\"\""},
        {"logit_bias", "\"x\"", "[]", "{\"abc\":1}", "{\"1\":500}", "{\"1\":\"x\"}", "{\"-5\":1}", "{\"99999999\":1}",
            "{\"1\":-101}", "{\"1\":null}", nineBiases()},
        {"seed", "\"x\"", "1e100", "{}", "99999999999999999999999", "[1]"},
        {"stream", "\"maybe\"", "{}", "[]", "5.5"},
        {"stream_options", "\"x\"", "5", "[]"},
        {"logprobs", "\"x\"", "{}", "[]"},
        {"presence_penalty", "5", "-5", "\"x\"", "{}"},
        {"frequency_penalty", "2.5", "-3", "\"x\""},
        {"repetition_penalty", "0", "3", "-1", "\"x\""},
        {"min_tokens", "-1", "\"x\"", "{}"},
        {"stop_token_ids", "[-1]", "[9999999]", "\"x\"", "[\"a\"]", "{}", "[null]"},
        {"tools", "[{\"type\":\"function\",\"function\":{\"name\":\"a b\"}}]", "[{\"type\":\"function\"}]",
            "[{\"type\":\"function\",\"function\":{\"name\":\"f\",\"parameters\":{\"type\":\"array\"}}}]", "\"x\""},
        {"tool_choice", "\"auto\"", "\"required\"", "{\"type\":\"function\"}"},
        {"response_format", "{\"type\":\"xml\"}", "\"x\"", "5", "{\"type\":\"json_schema\"}",
            "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"n\",\"schema\":{\"type\":\"string\",\"pattern\":\"a\"}}}",
            "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"n\",\"schema\":{\"$ref\":\"#\"}}}"},
        {"structured_outputs", "{}", "\"x\"", "{\"regex\":\"a+\"}", "{\"choice\":[]}", "{\"choice\":[1]}", "{\"json\":5}"},
        {"model", "\"other-model\"", "{}", "[]", "\"podserve-tiny \""},
    };

    /** Fields of a text completion request and values each must refuse. */
    private static final String[][] TEXT_FIELDS = {
        {"prompt", "5", "{}", "[]", "[[]]", "[-1]", "[99999999]", "[[\"a\"]]", "[true]", "null", "[{}]",
            "[\"a\",\"b\",\"c\",\"d\",\"e\"]", "[1.5]", "[[1],[]]", "true"},
        {"max_tokens", "-1", "0", "513", "\"x\"", "{}"},
        {"suffix", "\"tail\""},
        {"response_format", "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"n\",\"schema\":{\"minimum\":1}}}"},
        {"best_of", "0", "-1", "99", "\"x\"", "{}"},
        {"logprobs", "50", "-1", "\"x\"", "{}"},
        {"n", "0", "5", "\"x\""},
        {"echo", "\"x\"", "{}"},
        {"temperature", "3", "-1", "\"x\""},
        {"stop", "[\"a\",\"b\",\"c\"]", "7"},
        {"model", "\"nope\""},
    };

    private HostileBodies() {
    }

    static List<Case> generate(long seed, int count) {
        Random rnd = new Random(seed);
        List<Case> out = new ArrayList<>(count);
        // A fixed set first, then random draws from every generator until the count is reached.
        out.addAll(fixed());
        int kinds = 11;
        while (out.size() < count) {
            switch (rnd.nextInt(kinds)) {
                case 0, 1 -> out.add(wrongField(rnd, CHAT, chatBase(), CHAT_FIELDS, "chat-field"));
                case 2 -> out.add(wrongField(rnd, TEXT, textBase(), TEXT_FIELDS, "text-field"));
                case 3 -> out.add(brokenJson(rnd));
                case 4 -> out.add(deepNesting(rnd));
                case 5 -> out.add(invalidUtf8(rnd));
                case 6 -> out.add(hugeNumber(rnd));
                case 7 -> out.add(hugeString(rnd));
                case 8 -> out.add(unknownFieldsAround(rnd));
                case 9 -> out.add(tokenizeOrDetokenize(rnd));
                default -> out.add(wrongTransport(rnd));
            }
        }
        return out;
    }

    private static String chatBase() {
        return "\"model\":\"podserve-tiny\",\"max_tokens\":4,\"messages\":[" + USER + "]";
    }

    private static String textBase() {
        return "\"model\":\"podserve-tiny\",\"max_tokens\":4,\"prompt\":\"hi\"";
    }

    private static Case json(String kind, String path, String body) {
        return new Case(kind, "POST", path, JSON, body.getBytes(StandardCharsets.UTF_8));
    }

    private static Case wrongField(Random rnd, String path, String base, String[][] fields, String kind) {
        String[] f = fields[rnd.nextInt(fields.length)];
        String value = f[1 + rnd.nextInt(f.length - 1)];
        // A later duplicate of a known key wins in Jackson, so the bad value takes effect wherever it goes.
        String body = "{" + base + ",\"" + f[0] + "\":" + value + extrasFor(f[0], value) + "}";
        return json(kind + ":" + f[0], path, body);
    }

    /** Companions some bad values need to be bad: include_usage needs stream off, top_logprobs logprobs off. */
    private static String extrasFor(String field, String value) {
        if (field.equals("stream_options")) return ",\"stream\":false";
        if (field.equals("echo")) return ",\"logprobs\":1";
        return "";
    }

    private static Case brokenJson(Random rnd) {
        String valid = "{" + chatBase() + ",\"temperature\":0.5,\"stop\":[\"x\"]}";
        return switch (rnd.nextInt(9)) {
            // Any strict prefix of one JSON object is not a JSON document.
            case 0 -> json("truncated", CHAT, valid.substring(0, 1 + rnd.nextInt(valid.length() - 1)));
            case 1 -> json("trailing-comma", CHAT, valid.substring(0, valid.length() - 1) + ",}");
            case 2 -> json("single-quotes", CHAT, valid.replace('"', '\''));
            case 3 -> json("nan-literal", CHAT, "{" + chatBase() + ",\"temperature\":NaN}");
            case 4 -> json("comment", CHAT, "{/* hi */" + chatBase() + "}");
            case 5 -> json("unquoted-key", CHAT, "{model:\"podserve-tiny\"," + chatBase() + "}");
            case 6 -> json("double-comma", CHAT, valid.replaceFirst(",", ",,"));
            case 7 -> json("two-documents", CHAT, valid + valid);
            default -> json("not-an-object", CHAT, new String[] {"[]", "\"x\"", "5", "null", "true", "", " ", "[{}]"}[rnd.nextInt(8)]);
        };
    }

    private static Case deepNesting(Random rnd) {
        int depth = new int[] {8, 64, 499, 600, 5000, 20000}[rnd.nextInt(6)];
        boolean objects = rnd.nextBoolean();
        String open = objects ? "{\"a\":" : "[";
        String close = objects ? "}" : "]";
        String nested = open.repeat(depth) + "1" + close.repeat(depth);
        return switch (rnd.nextInt(4)) {
            case 0 -> json("deep-messages", CHAT, "{\"model\":\"podserve-tiny\",\"messages\":" + nested + "}");
            case 1 -> json("deep-stop", CHAT, "{" + chatBase() + ",\"stop\":" + nested + "}");
            case 2 -> json("deep-prompt", TEXT, "{\"model\":\"podserve-tiny\",\"prompt\":" + nested + "}");
            // An unknown field may nest (it is ignored), but this request has no messages.
            default -> json("deep-unknown", CHAT, "{\"model\":\"podserve-tiny\",\"extra\":" + nested + "}");
        };
    }

    /** Byte sequences no UTF-8 decoder may accept. */
    private static final byte[][] BAD_UTF8 = {
        {(byte) 0xFF}, {(byte) 0xFE}, {(byte) 0x80}, {(byte) 0xBF}, {(byte) 0xC3}, {(byte) 0xE2, (byte) 0x82},
        {(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80}, {(byte) 0xFC, (byte) 0x80},
        {(byte) 0xE2, (byte) 0x28, (byte) 0xA1}, {(byte) 0xF0, (byte) 0x28, (byte) 0x8C, (byte) 0x28},
    };

    private static Case invalidUtf8(Random rnd) {
        byte[] bad = BAD_UTF8[rnd.nextInt(BAD_UTF8.length)];
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        String path;
        String where = new String[] {"content", "key", "model", "prompt"}[rnd.nextInt(4)];
        switch (where) {
            case "content" -> {
                write(b, "{\"model\":\"podserve-tiny\",\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":\"a");
                b.writeBytes(bad);
                write(b, "b\"}]}");
                path = CHAT;
            }
            case "key" -> {
                write(b, "{" + chatBase() + ",\"x");
                b.writeBytes(bad);
                write(b, "\":1}");
                path = CHAT;
            }
            case "model" -> {
                write(b, "{\"model\":\"pod");
                b.writeBytes(bad);
                write(b, "\",\"max_tokens\":4,\"messages\":[" + USER + "]}");
                path = CHAT;
            }
            default -> {
                write(b, "{\"model\":\"podserve-tiny\",\"max_tokens\":4,\"prompt\":\"");
                b.writeBytes(bad);
                write(b, "\"}");
                path = TEXT;
            }
        }
        return new Case("invalid-utf8:" + where, "POST", path, JSON, b.toByteArray());
    }

    private static void write(ByteArrayOutputStream b, String s) {
        b.writeBytes(s.getBytes(StandardCharsets.UTF_8));
    }

    private static Case hugeNumber(Random rnd) {
        String digits = "9".repeat(new int[] {20, 40, 400, 1500}[rnd.nextInt(4)]);
        String field = new String[] {"max_tokens", "n", "seed", "top_k", "min_tokens"}[rnd.nextInt(5)];
        String value = switch (rnd.nextInt(4)) {
            case 0 -> digits;
            case 1 -> "-" + digits;
            case 2 -> "1e" + (400 + rnd.nextInt(100000));
            default -> digits + "." + digits;
        };
        return json("huge-number:" + field, CHAT, "{" + chatBase() + ",\"" + field + "\":" + value + "}");
    }

    private static Case hugeString(Random rnd) {
        return switch (rnd.nextInt(5)) {
            // Past the 256 KB body limit: 413.
            case 0 -> json("huge-body", CHAT, "{\"model\":\"podserve-tiny\",\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":\""
                    + "x".repeat(300_000) + "\"}]}");
            // Past the 1024 prompt-token limit (one token a byte here).
            case 1 -> json("long-prompt", CHAT, "{\"model\":\"podserve-tiny\",\"max_tokens\":4,\"messages\":[{\"role\":\"user\",\"content\":\""
                    + "ab".repeat(800 + rnd.nextInt(4000)) + "\"}]}");
            case 2 -> json("long-prompt-text", TEXT, "{\"model\":\"podserve-tiny\",\"prompt\":\"" + "z".repeat(1100 + rnd.nextInt(50_000)) + "\"}");
            case 3 -> json("long-model", CHAT, "{" + chatBase() + ",\"model\":\"" + "m".repeat(1000 + rnd.nextInt(100_000)) + "\"}");
            default -> json("long-stops", CHAT, "{" + chatBase() + ",\"stop\":[\"" + "s".repeat(50_000) + "\",\"t\",\"u\"]}");
        };
    }

    private static Case unknownFieldsAround(Random rnd) {
        StringBuilder extra = new StringBuilder();
        int fields = 1 + rnd.nextInt(20);
        for (int i = 0; i < fields; i++) {
            String value = new String[] {"1", "\"x\"", "null", "[1,{\"a\":[]}]", "{\"nested\":{\"deep\":true}}", "-0.0", "\"\\u0000\""}[rnd.nextInt(7)];
            extra.append(",\"unknown_").append(i).append('_').append(rnd.nextInt(1000)).append("\":").append(value);
        }
        // Unknown fields are ignored; what makes these invalid is the rest.
        String rest = switch (rnd.nextInt(4)) {
            case 0 -> "\"model\":\"podserve-tiny\"";
            case 1 -> chatBase() + ",\"n\":0";
            case 2 -> chatBase() + ",\"temperature\":9";
            default -> "\"model\":\"podserve-tiny\",\"messages\":[]";
        };
        return json("unknown-fields", CHAT, "{" + rest + extra + "}");
    }

    private static Case tokenizeOrDetokenize(Random rnd) {
        String[] tokenize = {"{}", "{\"prompt\":{}}", "{\"messages\":5}", "{\"prompt\":\"a\",\"messages\":[" + USER + "]}",
            "{\"messages\":[{\"role\":\"bot\",\"content\":\"x\"}]}", "{\"prompt\":[1,2]}", "{\"model\":\"x\",\"prompt\":\"a\"}",
            "{\"messages\":[]}"};
        String[] detokenize = {"{}", "{\"tokens\":\"x\"}", "{\"tokens\":[-1]}", "{\"tokens\":[999999]}", "{\"tokens\":[null]}",
            "{\"tokens\":{}}", "{\"tokens\":[\"a\"]}", "{\"tokens\":[" + "1,".repeat(10) + "-7]}", "{\"model\":\"x\",\"tokens\":[1]}"};
        return rnd.nextBoolean()
                ? json("tokenize", "/tokenize", tokenize[rnd.nextInt(tokenize.length)])
                : json("detokenize", "/detokenize", detokenize[rnd.nextInt(detokenize.length)]);
    }

    private static Case wrongTransport(Random rnd) {
        byte[] body = ("{" + chatBase() + "}").getBytes(StandardCharsets.UTF_8);
        return switch (rnd.nextInt(4)) {
            case 0 -> new Case("text-plain", "POST", CHAT, "text/plain", body);
            case 1 -> new Case("form", "POST", TEXT, "application/x-www-form-urlencoded", "a=1&b=2".getBytes(StandardCharsets.UTF_8));
            case 2 -> new Case("xml", "POST", CHAT, "application/xml", "<chat/>".getBytes(StandardCharsets.UTF_8));
            default -> new Case("wrong-method", new String[] {"PUT", "DELETE", "PATCH"}[rnd.nextInt(3)], CHAT, JSON, body);
        };
    }

    private static List<Case> fixed() {
        List<Case> out = new ArrayList<>();
        for (String[] f : CHAT_FIELDS) {
            for (int i = 1; i < f.length; i++) {
                out.add(json("chat-field:" + f[0], CHAT, "{" + chatBase() + ",\"" + f[0] + "\":" + f[i] + extrasFor(f[0], f[i]) + "}"));
            }
        }
        for (String[] f : TEXT_FIELDS) {
            for (int i = 1; i < f.length; i++) {
                out.add(json("text-field:" + f[0], TEXT, "{" + textBase() + ",\"" + f[0] + "\":" + f[i] + extrasFor(f[0], f[i]) + "}"));
            }
        }
        out.add(json("top-logprobs-without-logprobs", CHAT, "{" + chatBase() + ",\"top_logprobs\":2}"));
        out.add(json("top-logprobs-too-many", CHAT, "{" + chatBase() + ",\"logprobs\":true,\"top_logprobs\":50}"));
        out.add(json("min-tokens-over-max", CHAT, "{" + chatBase() + ",\"min_tokens\":100}"));
        out.add(json("prompt-ids-over-limit", TEXT, "{\"model\":\"podserve-tiny\",\"max_tokens\":4,\"prompt\":["
                + "1,".repeat(1100) + "1]}"));
        return out;
    }

    private static String nineBiases() {
        StringBuilder b = new StringBuilder("{");
        for (int i = 0; i < 9; i++) b.append(i == 0 ? "" : ",").append('"').append(10 + i).append("\":1");
        return b.append('}').toString();
    }
}
