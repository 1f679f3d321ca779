package dev.podserve.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;

import javax.xml.parsers.DocumentBuilderFactory;
import javax.xml.xpath.XPathFactory;

import org.junit.jupiter.api.Test;
import org.springframework.boot.test.context.SpringBootTest;

import tools.jackson.databind.JsonNode;

/** {@code GET /version} answers as vLLM's does, with the version the pom gives the build. */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
class VersionApiTest extends LiveServerApiTest {

    @Test
    void versionIsTheProjectsVersion() throws Exception {
        byte[] bytes = client.get().uri("/version").exchange().expectStatus().isOk()
                .expectBody().returnResult().getResponseBody();
        JsonNode body = ApiTestSupport.JSON.readTree(bytes);
        String pom = XPathFactory.newInstance().newXPath().evaluate("/project/version",
                DocumentBuilderFactory.newInstance().newDocumentBuilder().parse(Path.of("pom.xml").toFile()));
        assertThat(pom).isNotBlank();
        assertThat(body.propertyNames()).containsExactly("version");
        assertThat(body.get("version").asString()).isEqualTo(pom);
    }
}
