package dev.podserve.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import dev.podserve.structured.GrammarMatcher;
import dev.podserve.structured.OutputGrammar;
import dev.podserve.structured.SchemaCompiler;
import dev.podserve.structured.VocabularyTrie;

import tools.jackson.databind.json.JsonMapper;

/**
 * {@code bench structured}: what a structured output costs the host per step, on a vocabulary of
 * Llama 3's size. No model files can be had here, so the vocabulary is synthetic but shaped like a
 * byte-level BPE one: every single byte, words with and without a leading space, digit groups of
 * one to three, punctuation and JSON pieces, whitespace runs, and UTF-8 characters whole and cut.
 * For each recognizer state of interest it times the vocabulary walk ({@link GrammarMatcher#allowedTokens})
 * and reports how many tokens the state allows; also the trie's build time.
 *
 * <pre>bench/run-structured-bench.sh --vocab 128000 --reps 60 --out bench/results/structured-....json</pre>
 */
public final class StructuredOutputBenchmark {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    /** Each case: a grammar and the output so far that puts the matcher in the state to time. */
    private record Case(String name, OutputGrammar grammar, String prefix) {
    }

    public static void main(String[] args) throws IOException {
        int vocab = 128_000;
        int reps = 60;
        long seed = 1;
        Path out = null;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--vocab" -> vocab = Integer.parseInt(args[++i]);
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--seed" -> seed = Long.parseLong(args[++i]);
                case "--out" -> out = Path.of(args[++i]);
                case "--help" -> {
                    System.out.println("bench structured [--vocab N] [--reps N] [--seed N] [--out FILE.json]");
                    return;
                }
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        byte[][] tokens = syntheticVocabulary(vocab, new Random(seed));
        long t0 = System.nanoTime();
        VocabularyTrie trie = new VocabularyTrie(tokens);
        double buildMs = (System.nanoTime() - t0) / 1e6;
        double meanLength = Arrays.stream(tokens).mapToInt(t -> t.length).average().orElse(0);
        System.out.printf("vocabulary %d tokens (mean %.2f bytes), trie %d nodes built in %.0f ms%n", tokens.length, meanLength,
                trie.numNodes(), buildMs);

        OutputGrammar person = OutputGrammar.jsonSchema(SchemaCompiler.compile(JSON.readTree("""
                {"type": "object", "properties": {"name": {"type": "string"}, "age": {"type": "integer"},
                 "email": {"type": "string", "maxLength": 64}, "tags": {"type": "array", "items": {"type": "string"}},
                 "address": {"type": "object", "properties": {"street": {"type": "string"}, "city": {"type": "string"}},
                  "required": ["street", "city"]}}, "required": ["name", "age", "email"]}""")), "person");
        OutputGrammar object = OutputGrammar.jsonObject();
        StringBuilder values = new StringBuilder();
        for (int i = 0; i < 1000; i++) values.append(i == 0 ? "" : ",").append("\"choice-").append(i).append('"');
        OutputGrammar choices = OutputGrammar.jsonSchema(SchemaCompiler.compile(JSON.readTree(
                "{\"type\": \"object\", \"properties\": {\"pick\": {\"enum\": [" + values + "]}}}")), "choices");
        List<Case> cases = List.of(
                new Case("schema: value start (after '{')", person, "{"),
                new Case("schema: member name", person, "{\"na"),
                new Case("schema: after a name's colon", person, "{\"name\":"),
                new Case("schema: free string", person, "{\"name\": \"Jo"),
                new Case("schema: string up to 64 characters", person, "{\"name\": \"Jo\", \"email\": \"jo@"),
                new Case("schema: string 4 characters before its limit", person, "{\"email\": \"" + "x".repeat(60)),
                new Case("schema: integer", person, "{\"name\": \"Jo\", \"age\": 4"),
                new Case("schema: one of 1000 enum strings", choices, "{\"pick\": \"c"),
                new Case("json_object: member name", object, "{\"ke"),
                new Case("json_object: any value", object, "{\"key\": "),
                new Case("json_object: string", object, "{\"key\": \"some text"));
        int[] eos = {tokens.length - 1};
        List<Map<String, Object>> rows = new ArrayList<>();
        long[] mask = new long[(tokens.length + 63) / 64];
        for (Case c : cases) {
            GrammarMatcher m = c.grammar().matcher(trie, eos);
            for (byte b : c.prefix().getBytes(StandardCharsets.UTF_8)) m.accept(b & 0xFF); // ids 0..255 are the single bytes
            for (int w = 0; w < 10; w++) {
                m.allowedTokens(mask);
                m.allowedTokensByFullWalk(mask);
            }
            // The fast path and its reference alternate, so both see the same machine.
            double[] ms = new double[reps];
            double[] walk = new double[reps];
            long[] reference = new long[mask.length];
            for (int r = 0; r < reps; r++) {
                long s = System.nanoTime();
                m.allowedTokens(mask);
                ms[r] = (System.nanoTime() - s) / 1e6;
                s = System.nanoTime();
                m.allowedTokensByFullWalk(reference);
                walk[r] = (System.nanoTime() - s) / 1e6;
            }
            if (!Arrays.equals(mask, reference)) throw new IllegalStateException("the fast path and the full walk differ at " + c.name());
            Arrays.sort(ms);
            Arrays.sort(walk);
            int allowed = Arrays.stream(mask).mapToInt(Long::bitCount).sum();
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("state", c.name());
            row.put("allowed_tokens", allowed);
            row.put("median_ms", round(ms[reps / 2]));
            row.put("p90_ms", round(ms[(int) (reps * 0.9)]));
            row.put("max_ms", round(ms[reps - 1]));
            row.put("full_walk_median_ms", round(walk[reps / 2]));
            rows.add(row);
            System.out.printf("%-48s %7d allowed   median %7.3f ms   p90 %7.3f ms   full walk %7.3f ms%n", c.name(), allowed,
                    ms[reps / 2], ms[(int) (reps * 0.9)], walk[reps / 2]);
        }
        if (out != null) {
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("benchmark", "structured");
            doc.put("host_cores", Runtime.getRuntime().availableProcessors());
            doc.put("java", System.getProperty("java.version"));
            doc.put("vocab_size", tokens.length);
            doc.put("mean_token_bytes", round(meanLength));
            doc.put("trie_nodes", trie.numNodes());
            doc.put("trie_build_ms", round(buildMs));
            doc.put("reps", reps);
            doc.put("rows", rows);
            Files.createDirectories(out.toAbsolutePath().getParent());
            Files.writeString(out, JSON.writerWithDefaultPrettyPrinter().writeValueAsString(doc));
        }
    }

    private static double round(double v) {
        return Math.round(v * 1000) / 1000.0;
    }

    /**
     * Ids 0..255: the single bytes (so any output can be fed byte by byte); the last id: the end
     * token (no bytes); between: a byte-level BPE-like mix, no duplicates.
     */
    static byte[][] syntheticVocabulary(int size, Random rnd) {
        Set<String> seen = new LinkedHashSet<>();
        List<byte[]> out = new ArrayList<>();
        for (int b = 0; b < 256; b++) add(out, seen, new byte[] {(byte) b});
        for (int n = 0; n < 1000; n++) add(out, seen, Integer.toString(n).getBytes(StandardCharsets.US_ASCII));
        for (int n = 0; n < 100; n++) add(out, seen, String.format("%02d", n).getBytes(StandardCharsets.US_ASCII));
        String[] json = {"{\"", "\":", "\": ", "\",", "\", \"", "\"}", "\"]", "},", "}}", "]}", "[\"", "[{", "{\n", "\n}", "\",\n", ": {", ": [", "null", "true", "false"};
        for (String j : json) add(out, seen, j.getBytes(StandardCharsets.US_ASCII));
        String letters = "etaoinshrdlcumwfgypbvkjxqz";
        String punctuation = "{}[]\":,.;!?()'-_/\\<>=+*#@$%&|`~^";
        String[] scripts = {"\u00e9\u00e8\u00e0\u00fc\u00f6\u00e7\u00f1", "\u4e00\u4e8c\u4e09\u4eba\u5927\u4e2d\u56fd\u5b66\u751f\u6587",
                "\u0430\u0431\u0432\u0433\u0434\u0435\u0436\u0437\u0438\u043a", "\u3042\u3044\u3046\u3048\u304a\u304b\u304d", "\ud83d\ude00\ud83d\udc4d"};
        while (out.size() < size - 1) {
            int kind = rnd.nextInt(100);
            String piece;
            if (kind < 55) {
                StringBuilder w = new StringBuilder();
                int len = 2 + (int) Math.min(12, Math.abs(rnd.nextGaussian() * 3.5));
                for (int i = 0; i < len; i++) w.append(letters.charAt((int) Math.min(letters.length() - 1, Math.abs(rnd.nextGaussian() * 8))));
                if (rnd.nextInt(10) == 0) w.setCharAt(0, Character.toUpperCase(w.charAt(0)));
                piece = (rnd.nextInt(10) < 6 ? " " : "") + w;
            } else if (kind < 65) {
                StringBuilder p = new StringBuilder();
                for (int i = 1 + rnd.nextInt(3); i > 0; i--) p.append(punctuation.charAt(rnd.nextInt(punctuation.length())));
                piece = (rnd.nextInt(4) == 0 ? " " : "") + p;
            } else if (kind < 70) {
                piece = rnd.nextBoolean() ? " ".repeat(1 + rnd.nextInt(31)) : "\n" + " ".repeat(rnd.nextInt(16));
            } else if (kind < 90) {
                String script = scripts[rnd.nextInt(scripts.length)];
                StringBuilder s = new StringBuilder(rnd.nextInt(3) == 0 ? " " : "");
                for (int i = 1 + rnd.nextInt(3); i > 0; i--) s.appendCodePoint(script.codePointAt(script.offsetByCodePoints(0, rnd.nextInt(script.codePointCount(0, script.length())))));
                byte[] b = s.toString().getBytes(StandardCharsets.UTF_8);
                // Byte-level merges cut characters: sometimes keep only a piece.
                if (rnd.nextInt(4) == 0 && b.length > 2) b = Arrays.copyOfRange(b, rnd.nextInt(2), b.length - rnd.nextInt(2));
                add(out, seen, b);
                continue;
            } else {
                String[] words = {"self", "def", "return", "import", "class", "const", "value", "name", "data", "json", "http", "user", "id"};
                piece = (rnd.nextBoolean() ? "_" : ".") + words[rnd.nextInt(words.length)] + (rnd.nextBoolean() ? "(" : "");
            }
            add(out, seen, piece.getBytes(StandardCharsets.UTF_8));
        }
        out.add(new byte[0]);
        return out.toArray(byte[][]::new);
    }

    private static void add(List<byte[]> out, Set<String> seen, byte[] b) {
        if (b.length > 0 && seen.add(new String(b, StandardCharsets.ISO_8859_1))) out.add(b);
    }
}
