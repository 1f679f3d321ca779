package dev.podserve.api;

import org.springframework.http.server.reactive.ServerHttpRequestDecorator;
import org.springframework.web.server.ServerWebExchange;

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

    static Scheduler of(ServerWebExchange exchange) {
        Object nativeRequest = ServerHttpRequestDecorator.getNativeRequest(exchange.getRequest());
        if (nativeRequest instanceof Connection connection) {
            return Schedulers.fromExecutor(connection.channel().eventLoop());
        }
        // Not Reactor Netty (another server in tests): any thread but the engine's will do.
        return Schedulers.parallel();
    }
}
