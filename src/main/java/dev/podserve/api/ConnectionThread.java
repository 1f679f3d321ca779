package dev.podserve.api;

import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import org.springframework.web.server.ServerWebExchange;

import dev.podserve.engine.Engine;

import reactor.core.scheduler.Scheduler;
import reactor.core.scheduler.Schedulers;
import reactor.netty.Connection;

/**
 * The thread a response must be finished on. Engine outputs arrive on the engine thread; when a
 * response was written and completed from there, Reactor Netty (1.3.6) sometimes stopped reading
 * the next request on that keep-alive connection, which then hung until the client gave up (seen
 * about once in a few thousand requests under load, with two different clients). Moving the
 * writes onto the connection's own event loop removes that race.
 */
final class ConnectionThread {

    private ConnectionThread() {
    }

    /**
     * Where a response handles the engine's outputs: the connection's event loop when the engine's
     * forward pass leaves the host's cores idle (a GPU), so that work runs beside the next step
     * instead of between steps; the engine thread itself when the forward pass computes on those
     * cores, where a second thread would only take them from it.
     */
    static Scheduler forEngineOutputs(ServerWebExchange exchange, Engine engine) {
        return engine.forwardUsesHostCores() ? Schedulers.immediate() : of(exchange);
    }

    static Scheduler of(ServerWebExchange exchange) {
        Object nativeRequest;
        try {
            nativeRequest = ServerHttpRequestDecorator.getNativeRequest(exchange.getRequest());
        } catch (IllegalStateException e) {
            nativeRequest = null;  // a request with no server behind it (Spring's mock) has none
        }
        if (nativeRequest instanceof Connection connection) {
            return Schedulers.fromExecutor(connection.channel().eventLoop());
        }
        // Not Reactor Netty (another server in tests): any thread but the engine's will do.
        return Schedulers.parallel();
    }
}
