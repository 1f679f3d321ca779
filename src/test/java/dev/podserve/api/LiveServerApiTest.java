package dev.podserve.api;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.test.web.reactive.server.WebTestClient;

import dev.podserve.config.EngineHolder;

/**
 * What an API test over a real port starts from: the server's port, its model holder, and a client
 * made once the model is ready. Subclasses carry their own {@code @SpringBootTest} and its properties.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
abstract class LiveServerApiTest {

    @LocalServerPort
    int port;

    @Autowired
    EngineHolder holder;

    WebTestClient client;

    @BeforeAll
    void ready() throws InterruptedException {
        holder.await();
        client = ApiTestSupport.client(port);
    }
}
