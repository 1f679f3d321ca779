package dev.podserve.docker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ConditionEvaluationResult;
import org.junit.jupiter.api.extension.ExecutionCondition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.Container.ExecResult;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.utility.DockerImageName;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.command.InspectContainerResponse;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.ExposedPort;
import com.github.dockerjava.api.model.Ports;
import com.github.dockerjava.api.model.RestartPolicy;
import com.openai.client.OpenAIClient;
import com.openai.client.okhttp.OpenAIOkHttpClient;
import com.openai.core.JsonValue;
import com.openai.core.http.StreamResponse;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;

/**
 * The CPU image as it is deployed: started the way docker-compose.yml's {@code podserve-cpu} service
 * starts it (an init as PID 1, restart policy {@code unless-stopped}, the image's own HEALTHCHECK), then
 * used over its mapped port with the OpenAI Java SDK, restarted, and crashed under load.
 *
 * <p>It needs a Docker engine and the image ({@code docker build --target cpu -t podserve:cpu .}). Without
 * them the class is skipped with a message saying which is missing, unless {@code PODSERVE_DOCKER_REQUIRED=true}
 * (or {@code -Dpodserve.docker.required=true}), as {@code .ci/run} sets it, turns that into a failure: in CI
 * a skipped deployment test would pass for a broken deployment. {@code PODSERVE_DOCKER_IMAGE} names
 * another image.
 *
 * <p>Docker gives a published port a new host port whenever the container restarts, so every request
 * asks the engine for the current one instead of trusting what Testcontainers saw at start.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@ExtendWith(CpuImageContainerTest.WhereDockerAndImageExist.class)
class CpuImageContainerTest {

    private static final String IMAGE = setting("podserve.docker.image", "PODSERVE_DOCKER_IMAGE", "podserve:cpu");
    private static final boolean REQUIRED = Boolean.parseBoolean(
            setting("podserve.docker.required", "PODSERVE_DOCKER_REQUIRED", "false"));
    private static final int PORT = 8080;
    private static final String MODEL = "podserve-tiny";
    /** Where the container's whole log (every start of it) is written when the class ends. */
    private static final Path LOG = Path.of("target", "docker-tests", "podserve-cpu.log");

    private GenericContainer<?> container;
    private DockerClient docker;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();

    private static String setting(String property, String env, String fallback) {
        String value = System.getProperty(property);
        if (value == null || value.isBlank()) value = System.getenv(env);
        return value == null || value.isBlank() ? fallback : value;
    }

    /** Why the container tests cannot run here, or empty when they can. */
    static Optional<String> missing() {
        if (!DockerClientFactory.instance().isDockerAvailable()) {
            return Optional.of("no Docker engine reachable (DOCKER_HOST, or /var/run/docker.sock; .ci/run starts one)");
        }
        try {
            DockerClientFactory.instance().client().inspectImageCmd(IMAGE).exec();
        } catch (NotFoundException e) {
            return Optional.of("image " + IMAGE + " not built (docker build --target cpu -t " + IMAGE + " .)");
        }
        return Optional.empty();
    }

    /**
     * Disables the class, with the reason in the test report and on the console, where no engine or no
     * image is at hand; where the tests are required it lets them run, so that {@link #start} fails.
     */
    static final class WhereDockerAndImageExist implements ExecutionCondition {
        @Override
        public ConditionEvaluationResult evaluateExecutionCondition(ExtensionContext context) {
            // Decided once, for the class; its methods follow it.
            if (context.getTestMethod().isPresent()) return ConditionEvaluationResult.enabled("the class runs");
            Optional<String> why = missing();
            if (why.isEmpty() || REQUIRED) return ConditionEvaluationResult.enabled("Docker and " + IMAGE + " at hand, or required");
            System.out.println("[CpuImageContainerTest] skipped: " + why.get());
            return ConditionEvaluationResult.disabled(why.get());
        }
    }

    @BeforeAll
    void start() {
        missing().ifPresent(why -> fail(why + " (PODSERVE_DOCKER_REQUIRED is set, so this fails instead of skipping)"));
        docker = DockerClientFactory.instance().client();
        container = new GenericContainer<>(DockerImageName.parse(IMAGE))
                // The image is built here, never pulled: no registry is asked about it.
                .withImagePullPolicy(name -> false)
                .withExposedPorts(PORT)
                .withEnv("PODSERVE_BACKEND", "cpu")
                // As compose runs it: with an init as PID 1 the JVM is an ordinary process that can be
                // killed from inside, and a killed one ends the container, which the policy restarts.
                .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig()
                        .withInit(true)
                        .withRestartPolicy(RestartPolicy.unlessStoppedRestart()))
                // The image's HEALTHCHECK (GET /health from inside), not a port probe: healthy means serving.
                .waitingFor(Wait.forHealthcheck().withStartupTimeout(Duration.ofMinutes(3)));
        container.start();
    }

    @AfterAll
    void stop() throws IOException {
        if (container == null) return;
        try {
            Files.createDirectories(LOG.getParent());
            Files.writeString(LOG, container.getLogs());
        } finally {
            container.stop();
        }
    }

    private InspectContainerResponse inspect() {
        return docker.inspectContainerCmd(container.getContainerId()).exec();
    }

    /** The server's base URL as of now: the host port changes with every restart. */
    private String baseUrl() {
        Ports.Binding[] bindings = inspect().getNetworkSettings().getPorts().getBindings().get(ExposedPort.tcp(PORT));
        assertThat(bindings).as("host bindings of port %d", PORT).isNotEmpty();
        int port = Integer.parseInt(bindings[0].getHostPortSpec());
        return "http://" + container.getHost() + ":" + port;
    }

    private HttpResponse<String> get(String path) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(baseUrl() + path)).timeout(Duration.ofSeconds(30)).GET().build();
        return http.send(request, HttpResponse.BodyHandlers.ofString());
    }

    /** Waits until the container runs a process started after {@code startedBefore} and its HEALTHCHECK passes. */
    private InspectContainerResponse awaitHealthyAfter(String startedBefore, Duration limit) throws InterruptedException {
        long deadline = System.nanoTime() + limit.toNanos();
        InspectContainerResponse info = inspect();
        while (System.nanoTime() < deadline) {
            info = inspect();
            InspectContainerResponse.ContainerState state = info.getState();
            boolean restarted = !startedBefore.equals(state.getStartedAt());
            boolean healthy = state.getHealth() != null && "healthy".equals(state.getHealth().getStatus());
            if (Boolean.TRUE.equals(state.getRunning()) && restarted && healthy) return info;
            Thread.sleep(500);
        }
        return fail("container not healthy again within " + limit + ": state " + info.getState());
    }

    /** A streamed greedy chat through the official SDK; returns the completion tokens the usage reports. */
    private long streamedChat(String text, int maxTokens) {
        OpenAIClient client = OpenAIOkHttpClient.builder().baseUrl(baseUrl() + "/v1").apiKey("unused")
                .maxRetries(0).timeout(Duration.ofSeconds(60)).build();
        try {
            ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model(MODEL).addUserMessage(text)
                    .maxTokens(maxTokens).temperature(0.0)
                    .putAdditionalBodyProperty("ignore_eos", JsonValue.from(true))
                    .streamOptions(ChatCompletionStreamOptions.builder().includeUsage(true).build()).build();
            List<ChatCompletionChunk> chunks = new ArrayList<>();
            try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(params)) {
                stream.stream().forEach(chunks::add);
            }
            List<String> finishes = new ArrayList<>();
            StringBuilder content = new StringBuilder();
            for (ChatCompletionChunk chunk : chunks) {
                for (ChatCompletionChunk.Choice c : chunk.choices()) {
                    c.delta().content().ifPresent(content::append);
                    c.finishReason().ifPresent(r -> finishes.add(r.asString()));
                }
            }
            // A role chunk, content deltas, a finishing chunk and the usage chunk: a real stream, not one blob.
            assertThat(chunks.size()).isGreaterThan(3);
            assertThat(content).isNotEmpty();
            assertThat(finishes).containsExactly("length");
            ChatCompletionChunk last = chunks.get(chunks.size() - 1);
            assertThat(last.choices()).isEmpty();
            return last.usage().orElseThrow().completionTokens();
        } finally {
            client.close();
        }
    }

    @Test
    @Order(1)
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void streamsAChatThroughTheOpenAiSdk() {
        assertThat(streamedChat("Write a haiku about containers.", 24)).isEqualTo(24);
    }

    @Test
    @Order(2)
    @Timeout(value = 2, unit = TimeUnit.MINUTES)
    void servesHealthAndPrometheusMetrics() throws Exception {
        HttpResponse<String> health = get("/health");
        assertThat(health.statusCode()).isEqualTo(200);
        assertThat(health.body()).contains("\"status\":\"ok\"");

        HttpResponse<String> metrics = get("/metrics");
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
        // vLLM's names, and the chat of the test before counted in them.
        assertThat(metrics.body()).contains("vllm:num_requests_running", "vllm:kv_cache_usage_perc",
                "vllm:time_to_first_token_seconds_bucket");
        assertThat(metrics.body().lines().filter(l -> l.startsWith("vllm:request_success_total{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum()).isGreaterThanOrEqualTo(1.0);

        // The image's HEALTHCHECK agrees, and runs as the image's user, not root.
        assertThat(inspect().getState().getHealth().getStatus()).isEqualTo("healthy");
        ExecResult id = container.execInContainer("id", "-u");
        assertThat(id.getStdout().trim()).isNotEqualTo("0");
    }

    @Test
    @Order(3)
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void comesBackHealthyAfterARestart() throws Exception {
        String startedAt = inspect().getState().getStartedAt();
        // SIGTERM, then up to 30 s for Spring Boot's graceful shutdown, then the same container starts again.
        docker.restartContainerCmd(container.getContainerId()).withTimeout(30).exec();
        awaitHealthyAfter(startedAt, Duration.ofMinutes(2));

        assertThat(get("/health").statusCode()).isEqualTo(200);
        assertThat(streamedChat("Still there?", 8)).isEqualTo(8);
    }

    @Test
    @Order(4)
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void restartPolicyRevivesTheServerKilledUnderLoad() throws Exception {
        InspectContainerResponse before = inspect();
        int restarts = before.getRestartCount();
        String base = baseUrl();

        // Long greedy streams, so they are mid-flight when the JVM dies.
        int streams = 4;
        CountDownLatch streaming = new CountDownLatch(streams);
        ExecutorService pool = Executors.newFixedThreadPool(streams);
        List<Future<Boolean>> finished = new ArrayList<>();
        try {
            for (int i = 0; i < streams; i++) {
                String body = "{\"model\":\"" + MODEL + "\",\"stream\":true,\"max_tokens\":4000,\"ignore_eos\":true,"
                        + "\"temperature\":0,\"messages\":[{\"role\":\"user\",\"content\":\"load " + i + "\"}]}";
                HttpRequest request = HttpRequest.newBuilder(URI.create(base + "/v1/chat/completions"))
                        .timeout(Duration.ofSeconds(30)).header("Content-Type", "application/json")
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build();
                finished.add(pool.submit(() -> readStream(request, streaming)));
            }
            assertThat(streaming.await(60, TimeUnit.SECONDS)).as("all %d streams started", streams).isTrue();
            for (Future<Boolean> f : finished) {
                // get() on a finished one rethrows what ended it, which says more than a count would.
                if (f.isDone()) fail("a stream ended before the kill, reaching [DONE]: " + f.get());
            }
            assertThat(get("/metrics").body()).containsPattern("(?m)^vllm:num_requests_running\\{[^}]*} [1-9]");

            // SIGKILL to the JVM from inside: no shutdown hook, no graceful anything, as in a crash.
            ExecResult kill = container.execInContainer("bash", "-c",
                    "for p in /proc/[0-9]*; do [[ $(cat $p/comm 2>/dev/null) == java ]] && kill -KILL ${p#/proc/} && echo ${p#/proc/}; done");
            assertThat(kill.getStdout().trim()).as("pid of the killed JVM (stderr: %s)", kill.getStderr()).isNotEmpty();

            int cut = 0;
            for (Future<Boolean> f : finished) {
                if (!f.get(60, TimeUnit.SECONDS)) cut++;
            }
            assertThat(cut).as("streams that ended without [DONE]").isPositive();
        } finally {
            pool.shutdownNow();
        }

        InspectContainerResponse after = awaitHealthyAfter(before.getState().getStartedAt(), Duration.ofMinutes(2));
        assertThat(after.getRestartCount()).as("restarts by the policy").isGreaterThan(restarts);
        assertThat(get("/health").statusCode()).isEqualTo(200);
        assertThat(streamedChat("Back again?", 8)).isEqualTo(8);
    }

    /**
     * Reads one SSE stream to its end; true if it got to [DONE]. Counts down once the engine is generating
     * for it: at the first token's event, since the role event comes before the request is scheduled.
     */
    private boolean readStream(HttpRequest request, CountDownLatch streaming) throws InterruptedException {
        boolean counted = false;
        int events = 0;
        try {
            HttpResponse<InputStream> response = http.send(request, HttpResponse.BodyHandlers.ofInputStream());
            assertThat(response.statusCode()).isEqualTo(200);
            try (BufferedReader reader = new BufferedReader(new InputStreamReader(response.body(), StandardCharsets.UTF_8))) {
                for (String line; (line = reader.readLine()) != null; ) {
                    if (!line.startsWith("data: ")) continue;
                    if (++events == 2) {
                        streaming.countDown();
                        counted = true;
                    }
                    if (line.equals("data: [DONE]")) return true;
                }
            }
            return false;
        } catch (IOException e) {
            // Reset by the dying server: the expected way for these streams to end.
            return false;
        } finally {
            if (!counted) streaming.countDown();
        }
    }
}
