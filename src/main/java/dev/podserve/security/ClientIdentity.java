package dev.podserve.security;

import org.springframework.web.server.ServerWebExchange;

/**
 * Who sent a request, for per-client limits: the API key's place in the configuration
 * ({@code key-1}, {@code key-2}, ...), never the key itself, or {@code anonymous} when the server has no keys.
 */
public final class ClientIdentity {

    public static final String ANONYMOUS = "anonymous";

    static final String ATTRIBUTE = ClientIdentity.class.getName();

    private ClientIdentity() {
    }

    public static String of(ServerWebExchange exchange) {
        return exchange.getAttribute(ATTRIBUTE) instanceof String id ? id : ANONYMOUS;
    }
}
