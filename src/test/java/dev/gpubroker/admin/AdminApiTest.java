package dev.gpubroker.admin;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Value;

import dev.gpubroker.support.BrokerIntegrationTest;
import tools.jackson.core.type.TypeReference;

class AdminApiTest extends BrokerIntegrationTest {

    @Value("${gpubroker.data-dir}")
    String dataDir;

    @Test
    void anOperatorCreatesAnAgentWhoseKeyWorksOnMcpAndIsStoredOnlyHashed() throws Exception {
        HttpResponse<String> response = createAgent(adminToken(), "{\"name\": \"research-bot\"}");

        assertThat(response.statusCode()).isEqualTo(201);
        Map<String, Object> created = json.readValue(response.body(), new TypeReference<Map<String, Object>>() { });
        String apiKey = (String) created.get("apiKey");
        assertThat(apiKey).startsWith("gpb_").hasSizeGreaterThan(40);
        assertThat(created).containsEntry("name", "research-bot").containsKey("agentId");
        assertThat(count("agents", "api_key_hash = :key", Map.of("key", apiKey))).isZero();
        assertThat(quotes(call(client(apiKey), "quote", Map.of("gpu", "H100", "durationMinutes", 10)))).isNotEmpty();
    }

    @Test
    void anAgentWithAWalletItControlsIsRegisteredWithThatAddress() throws Exception {
        HttpResponse<String> response = createAgent(adminToken(),
                "{\"name\": \"self-custody\", \"walletAddress\": \"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed\"}");

        assertThat(response.statusCode()).isEqualTo(201);
        assertThat(response.body()).contains("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed");
    }

    @Test
    void badInputIsAProblemThatNamesTheFieldAndCreatesNothing() throws Exception {
        long before = count("agents");

        HttpResponse<String> noName = createAgent(adminToken(), "{\"walletAddress\": null}");
        HttpResponse<String> badWallet = createAgent(adminToken(), "{\"name\": \"x\", \"walletAddress\": \"0x123\"}");
        HttpResponse<String> notJson = createAgent(adminToken(), "name=x");

        assertThat(noName.statusCode()).isEqualTo(400);
        assertThat(noName.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(noName.body()).contains("\"field\":\"name\"");
        assertThat(badWallet.statusCode()).isEqualTo(400);
        assertThat(badWallet.body()).contains("\"field\":\"walletAddress\"");
        assertThat(notJson.statusCode()).isIn(400, 415);
        assertThat(count("agents")).isEqualTo(before);
    }

    @Test
    void theAdminApiRefusesAMissingOrWrongToken() throws Exception {
        long before = count("agents");

        HttpResponse<String> missing = createAgent(null, "{\"name\": \"sneaky\"}");
        HttpResponse<String> wrong = createAgent("gpa_wrong", "{\"name\": \"sneaky\"}");
        HttpResponse<String> agentKeyInstead = createAgent(newAgent("impostor").apiKey(), "{\"name\": \"sneaky\"}");

        for (HttpResponse<String> response : java.util.List.of(missing, wrong, agentKeyInstead)) {
            assertThat(response.statusCode()).isEqualTo(401);
            assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
            assertThat(response.headers().firstValue("WWW-Authenticate")).isPresent();
        }
        assertThat(count("agents")).isEqualTo(before + 1);
    }

    @Test
    void aBodyOverTheLimitIsRefusedWith413AndCreatesNothing() throws Exception {
        long before = count("agents");

        HttpResponse<String> response = createAgent(adminToken(), "{\"name\": \"" + "x".repeat(70 * 1024) + "\"}");

        assertThat(response.statusCode()).isEqualTo(413);
        assertThat(response.headers().firstValue("Content-Type")).hasValue("application/problem+json");
        assertThat(response.body()).contains("65536").doesNotContain("Exception");
        assertThat(count("agents")).isEqualTo(before);
    }

    @Test
    void aPolicyWithTooManyOrTooLongNamesIsAProblemThatNamesTheField() throws Exception {
        String agentId = newAgent("listed").agent().agentId();
        String fortyLongNames = java.util.stream.IntStream.range(0, 40)
                .mapToObj(i -> "\"provider-" + "x".repeat(50) + i + "\"").collect(java.util.stream.Collectors.joining(","));
        String seventeenGpus = String.join(",", java.util.Collections.nCopies(17, "\"H100\""));

        HttpResponse<String> providers = putPolicy(agentId, "[" + fortyLongNames + "]", "null");
        HttpResponse<String> tooLong = putPolicy(agentId, "[\"" + "p".repeat(65) + "\"]", "null");
        HttpResponse<String> gpus = putPolicy(agentId, "null", "[" + seventeenGpus + "]");
        HttpResponse<String> most = putPolicy(agentId, "[" + java.util.stream.IntStream.range(0, 24)
                .mapToObj(i -> "\"" + String.format("p%02d-", i) + "x".repeat(60) + "\"")
                .collect(java.util.stream.Collectors.joining(",")) + "]", "null");

        assertThat(providers.statusCode()).as(providers.body()).isEqualTo(400);
        assertThat(providers.body()).contains("\"field\":\"allowedProviders\"");
        assertThat(tooLong.statusCode()).isEqualTo(400);
        assertThat(tooLong.body()).contains("\"field\":\"allowedProviders\"");
        assertThat(gpus.statusCode()).isEqualTo(400);
        assertThat(gpus.body()).contains("\"field\":\"allowedGpus\"");
        assertThat(most.statusCode()).as("the most a policy may list is stored").isEqualTo(200);
    }

    private HttpResponse<String> putPolicy(String agentId, String providers, String gpus) throws Exception {
        String body = "{\"maxPerReservation\": null, \"dailyLimit\": null, \"totalLimit\": null, \"maxPricePerGpuHour\": null,"
                + " \"allowedProviders\": " + providers + ", \"allowedGpus\": " + gpus + ", \"approvalThreshold\": null,"
                + " \"frozen\": false}";
        HttpRequest request = HttpRequest.newBuilder(baseUri().resolve("/admin/v1/agents/" + agentId + "/policy"))
                .header("Content-Type", "application/json").header("Authorization", "Bearer " + adminToken())
                .timeout(Duration.ofSeconds(10)).PUT(HttpRequest.BodyPublishers.ofString(body)).build();
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(request, HttpResponse.BodyHandlers.ofString());
        }
    }

    private String adminToken() throws Exception {
        return Files.readString(java.nio.file.Path.of(dataDir, AdminToken.FILE)).strip();
    }

    private HttpResponse<String> createAgent(String token, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(baseUri().resolve("/admin/v1/agents"))
                .header("Content-Type", "application/json")
                .timeout(Duration.ofSeconds(10))
                .POST(HttpRequest.BodyPublishers.ofString(body));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        }
    }
}
