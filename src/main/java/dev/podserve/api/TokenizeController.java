package dev.podserve.api;

import java.util.ArrayList;
import java.util.List;

import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

import dev.podserve.api.dto.DetokenizeRequest;
import dev.podserve.api.dto.DetokenizeResponse;
import dev.podserve.api.dto.TokenizeRequest;
import dev.podserve.api.dto.TokenizeResponse;
import dev.podserve.config.EngineHolder;
import dev.podserve.engine.ServingModel;

/** vLLM's {@code POST /tokenize} and {@code POST /detokenize}, with the same tokenizer the engine uses. */
@RestController
class TokenizeController {

    private final EngineHolder holder;
    private final tools.jackson.databind.ObjectMapper json;

    TokenizeController(EngineHolder holder, tools.jackson.databind.ObjectMapper json) {
        this.holder = holder;
        this.json = json;
    }

    @PostMapping(path = "/tokenize", consumes = MediaType.APPLICATION_JSON_VALUE, produces = MediaType.APPLICATION_JSON_VALUE)
    TokenizeResponse tokenize(@RequestBody TokenizeRequest body) {
        ServingModel model = holder.require();
        ModelsController.checkModel(body.model(), model);
        if ((body.prompt() == null) == (body.messages() == null)) {
            throw ApiException.badRequest(body.prompt() == null ? "prompt" : "messages",
                    "Send exactly one of prompt or messages.");
        }
        int[] ids;
        if (body.prompt() != null) {
            boolean special = body.addSpecialTokens() == null || body.addSpecialTokens();
            ids = special ? model.tokenizer().encode(body.prompt()) : model.tokenizer().encodeNoSpecial(body.prompt());
        } else {
            String rendered = ChatPrompts.render(model, body.messages(),
                    ChatPrompts.addGenerationPrompt(body.addGenerationPrompt(), body.continueFinalMessage()),
                    ToolChoices.parse(body.tools(), "none", null, json, null, null).tools(),
                    ChatPrompts.templateKwargs(body.chatTemplateKwargs()), Boolean.TRUE.equals(body.continueFinalMessage()));
            boolean special = Boolean.TRUE.equals(body.addSpecialTokens());
            ids = special ? model.tokenizer().encode(rendered) : model.tokenizer().encodeNoSpecial(rendered);
        }
        List<Integer> tokens = new ArrayList<>(ids.length);
        for (int id : ids) tokens.add(id);
        List<String> strs = null;
        if (Boolean.TRUE.equals(body.returnTokenStrs())) {
            strs = new ArrayList<>(ids.length);
            for (int id : ids) strs.add(LogprobsMapper.tokenText(model.tokenizer(), id));
        }
        return new TokenizeResponse(ids.length, model.maxModelLen(), tokens, strs);
    }

    @PostMapping(path = "/detokenize", consumes = MediaType.APPLICATION_JSON_VALUE, produces = MediaType.APPLICATION_JSON_VALUE)
    DetokenizeResponse detokenize(@RequestBody DetokenizeRequest body) {
        ServingModel model = holder.require();
        ModelsController.checkModel(body.model(), model);
        if (body.tokens() == null) throw ApiException.badRequest("tokens", "tokens is required.");
        int vocab = model.config().vocabSize();
        int[] ids = new int[body.tokens().size()];
        for (int i = 0; i < ids.length; i++) {
            Integer id = body.tokens().get(i);
            if (id == null || id < 0 || id >= vocab) {
                throw ApiException.badRequest("tokens", "tokens[" + i + "] = " + id + " is outside the vocabulary [0, " + vocab + ").");
            }
            ids[i] = id;
        }
        return new DetokenizeResponse(model.tokenizer().decode(ids, false));
    }
}
