package dev.podserve.api;

import java.util.ArrayList;
import java.util.List;

/**
 * Where the calls lie in one JSON value of a model's tool calls, read as far as the text goes: a
 * call object ({@code {"name": ..., "arguments": ...}}, members in any order) or an array of them.
 * It finds each call's name once its string is whole, and where its arguments begin and (once
 * closed) end, so their text can stream while it is written. JSON's four blanks only, as the
 * grammar has them.
 */
final class CallSyntax {

    /**
     * One call so far.
     *
     * @param name      the name, once its string is whole; null before
     * @param argsStart where the arguments' value begins; -1 while not reached (or absent)
     * @param argsEnd   where it ends; -1 while open
     * @param end       where the call's object ends; -1 while open
     */
    record Call(String name, int argsStart, int argsEnd, int end) {

        boolean closed() {
            return end >= 0;
        }
    }

    /**
     * @param calls   the calls begun so far, in order
     * @param end     where the whole value ends; -1 while open
     * @param invalid whether the text cannot be calls as the format writes them
     */
    record Scan(List<Call> calls, int end, boolean invalid) {
    }

    private static final int OPEN = -1;
    private static final int BAD = -2;

    private final CharSequence text;
    private final String argumentsKey;
    private final List<Call> calls = new ArrayList<>();

    private CallSyntax(CharSequence text, String argumentsKey) {
        this.text = text;
        this.argumentsKey = argumentsKey;
    }

    static Scan scan(CharSequence text, boolean array, String argumentsKey) {
        CallSyntax s = new CallSyntax(text, argumentsKey);
        int end = array ? s.array(s.blanks(0)) : s.object(s.blanks(0));
        return new Scan(s.calls, Math.max(end, OPEN), end == BAD);
    }

    private int array(int i) {
        if (i == text.length()) return OPEN;
        if (text.charAt(i) != '[') return BAD;
        i = blanks(i + 1);
        while (true) {
            int end = object(i);
            if (end < 0) return end;
            i = blanks(end);
            if (i == text.length()) return OPEN;
            char c = text.charAt(i);
            if (c == ']') return i + 1;
            if (c != ',') return BAD;
            i = blanks(i + 1);
        }
    }

    /** One call object from {@code i}; records it. */
    private int object(int i) {
        if (i == text.length()) return OPEN;
        if (text.charAt(i) != '{') return BAD;
        int index = calls.size();
        calls.add(new Call(null, -1, -1, -1));
        i = blanks(i + 1);
        if (i < text.length() && text.charAt(i) == '}') return BAD;
        while (true) {
            if (i == text.length()) return OPEN;
            if (text.charAt(i) != '"') return BAD;
            int keyEnd = string(i);
            if (keyEnd < 0) return keyEnd;
            String key = text.subSequence(i + 1, keyEnd - 1).toString();
            i = blanks(keyEnd);
            if (i == text.length()) return OPEN;
            if (text.charAt(i) != ':') return BAD;
            int valueStart = blanks(i + 1);
            if (valueStart == text.length()) return OPEN;
            int valueEnd = value(valueStart);
            if (valueEnd == BAD) return BAD;
            Call c = calls.get(index);
            // The first name and the first arguments count (a stream gives them out as they come).
            if (c.argsStart() < 0 && (key.equals(argumentsKey) || key.equals("arguments"))) {
                // Arguments given as a string must be one JSON can read (they go out decoded).
                if (valueEnd > 0 && text.charAt(valueStart) == '"' && !decodes(valueStart, valueEnd)) return BAD;
                calls.set(index, new Call(c.name(), valueStart, Math.max(valueEnd, -1), -1));
            } else if (key.equals("name") && valueEnd > 0 && c.name() == null) {
                if (text.charAt(valueStart) != '"') return BAD;
                String name;
                try {
                    name = decode(valueStart, valueEnd);
                } catch (RuntimeException e) {
                    return BAD;
                }
                calls.set(index, new Call(name, c.argsStart(), c.argsEnd(), -1));
            }
            if (valueEnd < 0) return valueEnd;
            i = blanks(valueEnd);
            if (i == text.length()) return OPEN;
            char ch = text.charAt(i);
            if (ch == '}') {
                c = calls.get(index);
                if (c.name() == null) return BAD;
                calls.set(index, new Call(c.name(), c.argsStart(), c.argsEnd(), i + 1));
                return i + 1;
            }
            if (ch != ',') return BAD;
            i = blanks(i + 1);
        }
    }

    /** End of the JSON value at {@code i}; OPEN where the text stops inside it. */
    private int value(int i) {
        char c = text.charAt(i);
        if (c == '"') return string(i);
        if (c == '{' || c == '[') {
            int depth = 0;
            boolean inString = false;
            for (; i < text.length(); i++) {
                char x = text.charAt(i);
                if (inString) {
                    if (x == '\\') i++;
                    else if (x == '"') inString = false;
                } else if (x == '"') {
                    inString = true;
                } else if (x == '{' || x == '[') {
                    depth++;
                } else if ((x == '}' || x == ']') && --depth == 0) {
                    return i + 1;
                }
            }
            return OPEN;
        }
        // A number or a literal: it ends at the first byte that cannot continue it.
        int j = i;
        while (j < text.length() && "+-.0123456789eEtruefalsn".indexOf(text.charAt(j)) >= 0) j++;
        if (j == i) return BAD;
        return j == text.length() ? OPEN : j;
    }

    private int string(int i) {
        for (int j = i + 1; j < text.length(); j++) {
            char x = text.charAt(j);
            if (x == '\\') j++;
            else if (x == '"') return j + 1;
        }
        return OPEN;
    }

    private int blanks(int i) {
        while (i < text.length() && ToolCallText.blank(text.charAt(i))) i++;
        return i;
    }

    private boolean decodes(int start, int end) {
        try {
            decode(start, end);
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    private String decode(int start, int end) {
        return decodeString(text, start, end);
    }

    /** The value of the whole JSON string {@code text[start, end)}. */
    static String decodeString(CharSequence text, int start, int end) {
        return ToolCallAnswers.JSON.readTree(text.subSequence(start, end).toString()).stringValue();
    }
}
