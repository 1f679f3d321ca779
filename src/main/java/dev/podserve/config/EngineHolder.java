package dev.podserve.config;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.UnaryOperator;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.stereotype.Component;

import dev.podserve.backend.BackendDecorator;
import dev.podserve.backend.ComputeBackend;
import dev.podserve.engine.EngineListener;
import dev.podserve.engine.EngineUnavailableException;
import dev.podserve.engine.ServingModel;

/**
 * Loads the model on a background thread so the HTTP port answers from the start (503 while
 * loading, as {@code /health} reports). A model that cannot load stops the application.
 */
@Component
public class EngineHolder implements DisposableBean {

    private static final Logger log = LoggerFactory.getLogger(EngineHolder.class);

    private final AtomicReference<ServingModel> model = new AtomicReference<>();
    private volatile String failure;
    private final Thread loader;

    public EngineHolder(PodserveProperties props, ObjectProvider<EngineListener> listeners,
                        ObjectProvider<BackendDecorator> decorators) {
        EngineListener engineListener = EngineListener.all(listeners.orderedStream().toList());
        List<BackendDecorator> wrappers = decorators.orderedStream().toList();
        UnaryOperator<ComputeBackend> decorate = backend -> {
            ComputeBackend b = backend;
            for (BackendDecorator d : wrappers) b = d.decorate(b);
            return b;
        };
        this.loader = new Thread(() -> {
            try {
                ServingModel loaded = ModelLoader.load(props, engineListener, decorate);
                engineListener.onModelReady(loaded);
                model.set(loaded);
            } catch (RuntimeException | Error e) {
                failure = e.getMessage();
                log.error("podserve cannot start: {}", e.getMessage(), e);
                // Straight to System.exit, whose shutdown hook closes the context: closing it first
                // (SpringApplication.exit) ends the last non-daemon threads, and the JVM's own exit
                // with status 0 could then beat this daemon thread's exit(1).
                System.exit(1);
            }
        }, "podserve-model-loader");
        loader.setDaemon(true);
        loader.start();
    }

    /** The model, once ready. */
    public Optional<ServingModel> ready() {
        return Optional.ofNullable(model.get());
    }

    /** The model, or a 503-worthy exception while it loads. */
    public ServingModel require() {
        ServingModel m = model.get();
        if (m != null) return m;
        throw new EngineUnavailableException(failure != null ? "the model failed to load: " + failure
                : "the model is still loading; retry shortly");
    }

    /** Blocks until the model is ready or failed (tests and benchmarks). */
    public ServingModel await() throws InterruptedException {
        loader.join();
        return require();
    }

    @Override
    public void destroy() {
        ServingModel m = model.get();
        if (m != null) {
            m.engine().close();
            m.tokenizer().close();
        }
    }
}
