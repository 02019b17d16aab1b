package dev.gpubroker.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.health.actuate.endpoint.HealthEndpointGroups;

import dev.gpubroker.support.BrokerIntegrationTest;
import tools.jackson.databind.JsonNode;

/**
 * The public health check answers UP or DOWN and nothing more; the database and the chain are both in it and in the
 * readiness group, so either one unreachable makes it DOWN (503). The chain's part going DOWN is in
 * ChainHealthIndicatorTest.
 */
class HealthCheckTest extends BrokerIntegrationTest {

    @Autowired
    HealthEndpointGroups groups;

    @Test
    void theHealthCheckIsUpWithoutCredentialsAndNamesNoPartHostOrUrl() throws Exception {
        for (String path : new String[] {"/actuator/health", "/actuator/health/readiness", "/actuator/health/liveness"}) {
            HttpResponse<String> response = get(path);

            assertThat(response.statusCode()).as(path).isEqualTo(200);
            JsonNode health = json.readTree(response.body());
            assertThat(health.path("status").asString()).as(path).isEqualTo("UP");
            assertThat(health.has("components")).as(path + ": " + response.body()).isFalse();
            assertThat(health.has("details")).as(path + ": " + response.body()).isFalse();
            assertThat(response.body()).as(path).doesNotContain("127.0.0.1").doesNotContain("r2dbc:")
                    .doesNotContain("http:");
        }
    }

    @Test
    void oneIndicatorsOwnAnswerIsNotServedPublicly() throws Exception {
        for (String path : new String[] {"/actuator/health/chain", "/actuator/health/r2dbc"}) {
            HttpResponse<String> response = get(path);

            assertThat(response.statusCode()).as(path).isEqualTo(404);
            assertThat(response.body()).as(path).doesNotContain("chainId").doesNotContain("H2");
        }
    }

    @Test
    void theDatabaseAndTheChainAreInTheHealthCheckAndInReadinessButNotInLiveness() {
        assertThat(groups.getPrimary().isMember("r2dbc")).isTrue();
        assertThat(groups.getPrimary().isMember("chain")).isTrue();
        assertThat(groups.get("readiness").isMember("r2dbc")).isTrue();
        assertThat(groups.get("readiness").isMember("chain")).isTrue();
        assertThat(groups.get("liveness").isMember("r2dbc")).isFalse();
        assertThat(groups.get("liveness").isMember("chain")).isFalse();
    }

    private HttpResponse<String> get(String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(baseUri().resolve(path)).timeout(Duration.ofSeconds(10)).GET().build();
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        }
    }
}
