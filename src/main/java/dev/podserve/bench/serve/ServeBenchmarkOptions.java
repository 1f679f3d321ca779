package dev.podserve.bench.serve;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Iterator;

/** The command line of {@code bench serve}; {@link #usage()} lists every flag with its default. */
public final class ServeBenchmarkOptions {

    public String url = "http://localhost:8080";
    public StreamingClient.Endpoint endpoint = StreamingClient.Endpoint.COMPLETIONS;
    public String model;
    public String apiKey = System.getenv("OPENAI_API_KEY");
    public WorkloadKind workload = WorkloadKind.RANDOM;
    public int numRequests = 100;
    public LengthRange inputLen = new LengthRange(128, 512);
    public LengthRange outputLen = new LengthRange(64, 256);
    public int scale = 1;
    public double longFraction = 0.2;
    public int prefixLen;
    public boolean textPrompts;
    public int idLow = 0;
    public int idHigh = 256;
    public double rate = Double.POSITIVE_INFINITY;
    public double burstiness = 1.0;
    public int maxConcurrency;
    public long seed = 0;
    public int timeoutS = 600;
    public double temperature = 0;
    public double topP = 1;
    /** --extra-body: fields put into every request body; null: none. */
    public tools.jackson.databind.node.ObjectNode extraBody;
    public boolean checkJson;
    public Path out;
    public boolean detailed;
    public boolean capacitySearch;
    public double sloP99ItlMs = 50;
    public double sloMedianTtftMs = 1000;
    public double searchStartRate = 1;
    public double searchMaxRate = 256;
    public int searchSteps = 3;
    public double[] searchRates;  // a ladder instead of doubling and bisection, or null

    public static String usage() {
        return """
                Usage: ServeBenchmark [flags]   (a streaming load client of any OpenAI-compatible server)
                  --url URL                  server base URL (default http://localhost:8080)
                  --endpoint completions|chat  route to stream through (default completions)
                  --model NAME               model to request (default: the first of GET /v1/models)
                  --api-key KEY              bearer key (default $OPENAI_API_KEY)
                  --workload random|long-prompt|mixed  (default random)
                  --num-requests N           requests per pass (default 100)
                  --input-len MIN:MAX        random workload's prompt lengths in tokens (default 128:512)
                  --output-len MIN:MAX       random workload's output lengths in tokens (default 64:256)
                  --scale K                  divide the long-prompt (16384 in, 1024 out) and mixed lengths by K (default 1)
                  --long-fraction F          mixed: share of long documents among short chats (default 0.2)
                  --prefix-len N             every prompt starts with the same N tokens (a shared system prompt), then its own (default 0)
                  --text-prompts             completions: send text instead of token-id prompts (chat always sends text)
                  --token-ids LO:HI          token-id prompts draw ids from [LO, HI) (default 0:256)
                  --rate R|inf               requests per second; inf sends all at once (default inf)
                  --burstiness B             gamma shape of the inter-arrival gaps; 1 = Poisson (default 1)
                  --max-concurrency N        requests in flight at most; 0 = no cap (default 0)
                  --seed S                   workload and arrival seed (default 0)
                  --timeout SECONDS          per request (default 600)
                  --temperature T            sampling temperature of every request; 0 is greedy (default 0)
                  --top-p P                  nucleus sampling, sent when below 1 (default 1)
                  --extra-body JSON          fields put into every request body, over the client's own
                                             (e.g. a response_format, with "ignore_eos": false)
                  --check-json               count the outputs whose text is one JSON value
                  --out FILE                 write the JSON result there
                  --detailed                 JSON also lists every request's inter-token gaps
                  --capacity-search          find the highest rate meeting the SLOs below instead of one pass
                  --slo-p99-itl-ms MS        SLO on P99 inter-token latency (default 50)
                  --slo-median-ttft-ms MS    SLO on median TTFT (default 1000)
                  --search-start-rate R      first rate probed (default 1)
                  --search-max-rate R        highest rate probed while doubling (default 256)
                  --search-steps N           bisection steps after the doubling (default 3)
                  --search-rates R1,R2,...   probe exactly these rates, ascending, up to the first miss
                                             (instead of doubling and bisecting)
                """;
    }

    public static ServeBenchmarkOptions parse(String... args) {
        ServeBenchmarkOptions o = new ServeBenchmarkOptions();
        Iterator<String> it = Arrays.asList(args).iterator();
        while (it.hasNext()) {
            String flag = it.next();
            switch (flag) {
                case "--url" -> o.url = value(flag, it);
                case "--endpoint" -> o.endpoint = StreamingClient.Endpoint.parse(value(flag, it));
                case "--model" -> o.model = value(flag, it);
                case "--api-key" -> o.apiKey = value(flag, it);
                case "--workload" -> o.workload = WorkloadKind.parse(value(flag, it));
                case "--num-requests" -> o.numRequests = Integer.parseInt(value(flag, it));
                case "--input-len" -> o.inputLen = LengthRange.parse(value(flag, it));
                case "--output-len" -> o.outputLen = LengthRange.parse(value(flag, it));
                case "--scale" -> o.scale = Integer.parseInt(value(flag, it));
                case "--long-fraction" -> o.longFraction = Double.parseDouble(value(flag, it));
                case "--prefix-len" -> o.prefixLen = Integer.parseInt(value(flag, it));
                case "--text-prompts" -> o.textPrompts = true;
                case "--token-ids" -> {
                    String v = value(flag, it);
                    int colon = v.indexOf(':');
                    if (colon < 0) throw new IllegalArgumentException("--token-ids takes LO:HI");
                    o.idLow = Integer.parseInt(v.substring(0, colon));
                    o.idHigh = Integer.parseInt(v.substring(colon + 1));
                }
                case "--rate" -> {
                    String v = value(flag, it);
                    o.rate = v.equalsIgnoreCase("inf") ? Double.POSITIVE_INFINITY : Double.parseDouble(v);
                }
                case "--burstiness" -> o.burstiness = Double.parseDouble(value(flag, it));
                case "--max-concurrency" -> o.maxConcurrency = Integer.parseInt(value(flag, it));
                case "--seed" -> o.seed = Long.parseLong(value(flag, it));
                case "--timeout" -> o.timeoutS = Integer.parseInt(value(flag, it));
                case "--temperature" -> o.temperature = Double.parseDouble(value(flag, it));
                case "--top-p" -> o.topP = Double.parseDouble(value(flag, it));
                case "--extra-body" -> {
                    tools.jackson.databind.JsonNode extra = tools.jackson.databind.json.JsonMapper.builder().build().readTree(value(flag, it));
                    if (!extra.isObject()) throw new IllegalArgumentException("--extra-body must be a JSON object");
                    o.extraBody = (tools.jackson.databind.node.ObjectNode) extra;
                }
                case "--check-json" -> o.checkJson = true;
                case "--out" -> o.out = Path.of(value(flag, it));
                case "--detailed" -> o.detailed = true;
                case "--capacity-search" -> o.capacitySearch = true;
                case "--slo-p99-itl-ms" -> o.sloP99ItlMs = Double.parseDouble(value(flag, it));
                case "--slo-median-ttft-ms" -> o.sloMedianTtftMs = Double.parseDouble(value(flag, it));
                case "--search-start-rate" -> o.searchStartRate = Double.parseDouble(value(flag, it));
                case "--search-max-rate" -> o.searchMaxRate = Double.parseDouble(value(flag, it));
                case "--search-steps" -> o.searchSteps = Integer.parseInt(value(flag, it));
                case "--search-rates" -> o.searchRates = Arrays.stream(value(flag, it).split(","))
                        .map(String::trim).filter(v -> !v.isEmpty()).mapToDouble(Double::parseDouble).toArray();
                default -> throw new IllegalArgumentException("unknown flag " + flag);
            }
        }
        if (o.numRequests < 1) throw new IllegalArgumentException("--num-requests must be >= 1");
        // Otherwise the ladder would be ignored and one run at --rate made instead.
        if (o.searchRates != null && !o.capacitySearch) throw new IllegalArgumentException("--search-rates needs --capacity-search");
        if (o.timeoutS < 1) throw new IllegalArgumentException("--timeout must be >= 1");
        if (!(o.temperature >= 0)) throw new IllegalArgumentException("--temperature must be >= 0");
        if (!(o.topP > 0 && o.topP <= 1)) throw new IllegalArgumentException("--top-p must be in (0, 1]");
        return o;
    }

    private static String value(String flag, Iterator<String> it) {
        if (!it.hasNext()) throw new IllegalArgumentException(flag + " needs a value");
        return it.next();
    }

    /** Token-id prompts only where the route takes them. */
    public boolean tokenIdPrompts() {
        return endpoint == StreamingClient.Endpoint.COMPLETIONS && !textPrompts;
    }

    public WorkloadGenerator workloadGenerator() {
        return new WorkloadGenerator(workload, inputLen, outputLen, scale, longFraction, tokenIdPrompts(), idLow, idHigh, prefixLen);
    }
}
