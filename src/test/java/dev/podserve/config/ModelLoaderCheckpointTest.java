package dev.podserve.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.util.unit.DataSize;

import dev.podserve.engine.EngineListener;
import dev.podserve.engine.GenerationRequest;
import dev.podserve.engine.RequestOutput;
import dev.podserve.engine.ServingModel;
import dev.podserve.model.DummyWeights;
import dev.podserve.model.ModelConfig;
import dev.podserve.model.ModelFolder;
import dev.podserve.model.safetensors.CheckpointException;
import dev.podserve.model.safetensors.CheckpointWriter;
import dev.podserve.model.safetensors.Dtype;
import dev.podserve.sampling.SamplingParams;

class ModelLoaderCheckpointTest {

    private static final long SEED = 4242;

    @TempDir
    Path dir;

    private Path tinyFolder() throws IOException {
        for (String f : List.of("config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json")) {
            try (InputStream in = getClass().getClassLoader().getResourceAsStream(ModelFolder.EMBEDDED_RESOURCE + f)) {
                Files.copy(in, dir.resolve(f));
            }
        }
        return dir;
    }

    private static PodserveProperties props(Path folder, String loadFormat) {
        return new PodserveProperties(new PodserveProperties.Model(folder.toString(), loadFormat, SEED, null, null, "auto", "auto"),
                new PodserveProperties.Scheduler(64, 4, 0, 256, "", "headroom", true, "fcfs"), new PodserveProperties.KvCache(16, DataSize.ofMegabytes(4), 0, true),
                new PodserveProperties.Cpu(2), new PodserveProperties.Api(Duration.ofSeconds(15), java.util.List.of()), null, null, null, "cpu");
    }

    private static int[] greedy(ServingModel model) {
        try {
            SamplingParams p = SamplingParams.builder().temperature(0).maxTokens(12).ignoreEos(true).build();
            List<RequestOutput> outs = model.engine().submit(new GenerationRequest("r", new int[] {72, 101, 108, 108, 111}, p))
                    .collectList().block(Duration.ofSeconds(60));
            List<Integer> ids = new ArrayList<>();
            for (RequestOutput o : outs) for (int t : o.tokenIds()) ids.add(t);
            return ids.stream().mapToInt(Integer::intValue).toArray();
        } finally {
            model.engine().close();
        }
    }

    /** The same weights through a checkpoint and through the seed must generate the same tokens. */
    @Test
    void servesCheckpointWeightsExactlyAsTheDummyOnesTheyWereWrittenFrom() throws IOException {
        Path folder = tinyFolder();
        ModelConfig cfg = ModelConfig.load(folder.resolve("config.json"));
        CheckpointWriter.write(DummyWeights.generate(cfg, SEED), folder, Dtype.F32, Long.MAX_VALUE);
        int[] fromCheckpoint = greedy(ModelLoader.load(props(folder, "auto"), EngineListener.NONE));
        int[] fromSeed = greedy(ModelLoader.load(props(folder, "dummy"), EngineListener.NONE));
        assertThat(fromCheckpoint).hasSize(12).isEqualTo(fromSeed);
    }

    @Test
    void aFolderWithoutWeightsStopsStartupNamingIt() throws IOException {
        Path folder = tinyFolder();
        assertThatThrownBy(() -> ModelLoader.load(props(folder, "auto"), EngineListener.NONE))
                .isInstanceOf(CheckpointException.class).hasMessageContaining(folder.toString())
                .hasMessageContaining("no model.safetensors");
    }
}
