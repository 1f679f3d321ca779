package dev.podserve.api;

import java.util.List;

import org.springframework.http.HttpStatus;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.RestController;

import dev.podserve.api.dto.ModelCard;
import dev.podserve.config.EngineHolder;
import dev.podserve.engine.ServingModel;

/** {@code GET /v1/models} and {@code GET /v1/models/{id}}. */
@RestController
class ModelsController {

    private final EngineHolder holder;

    ModelsController(EngineHolder holder) {
        this.holder = holder;
    }

    @GetMapping("/v1/models")
    ModelCard.ModelList list() {
        return new ModelCard.ModelList("list", List.of(card(holder.require())));
    }

    /**
     * Served names are often HuggingFace repository ids ({@code meta-llama/Llama-3.1-8B}), so the id
     * is the whole rest of the path, slashes included.
     */
    @GetMapping("/v1/models/{*id}")
    ModelCard get(@PathVariable String id) {
        ServingModel model = holder.require();
        String name = id.startsWith("/") ? id.substring(1) : id;
        if (name.isEmpty()) throw new ApiException(HttpStatus.NOT_FOUND, "model", "No model id given after /v1/models/.");
        checkModel(name, model);
        return card(model);
    }

    private static ModelCard card(ServingModel m) {
        return new ModelCard(m.servedName(), "model", m.createdEpochSec(), "podserve", m.root(), m.maxModelLen(),
                m.backendDescription());
    }

    /** A request naming another model is a 404, as OpenAI answers; leaving it out means the served one. */
    static void checkModel(String requested, ServingModel model) {
        if (requested != null && !requested.equals(model.servedName())) {
            throw new ApiException(HttpStatus.NOT_FOUND, "model",
                    "The model '" + requested + "' does not exist. This server serves '" + model.servedName() + "'.");
        }
    }
}
