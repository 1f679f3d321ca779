package dev.podserve.api;

import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import reactor.core.publisher.Flux;

/**
 * Prompts and outputs in the log, only when {@code podserve.security.log-prompts} is on: they are
 * the users' data, so by default nothing of them is logged anywhere. A logger of its own
 * ({@code dev.podserve.prompts}) so they can be routed apart from the operational log.
 */
final class PromptLog {

    private static final Logger log = LoggerFactory.getLogger("dev.podserve.prompts");

    private final boolean enabled;

    PromptLog(boolean enabled) {
        this.enabled = enabled;
    }

    /** Logs the prompts now and each choice's text when the response ends; the events pass unchanged. */
    Flux<Choices.Event> tap(String responseId, List<String> prompts, int choices, Flux<Choices.Event> events) {
        if (!enabled) return events;
        for (int i = 0; i < prompts.size(); i++) log.info("{} prompt {}: {}", responseId, i, prompts.get(i));
        StringBuilder[] text = new StringBuilder[choices];
        for (int i = 0; i < choices; i++) text[i] = new StringBuilder();
        return events.doOnNext(e -> text[e.choice()].append(e.output().text())).doFinally(signal -> {
            for (int i = 0; i < choices; i++) log.info("{} choice {} ({}): {}", responseId, i, signal, text[i]);
        });
    }

    boolean enabled() {
        return enabled;
    }
}
