package dev.gpubroker.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.modelcontextprotocol.client.McpSyncClient;

import dev.gpubroker.identity.NewAgent;
import dev.gpubroker.support.BrokerIntegrationTest;
import dev.gpubroker.support.RawMcp;

/** The quote → reserve flow as an agent sees it through the official MCP Java SDK client over streamable HTTP. */
class McpOverHttpTest extends BrokerIntegrationTest {

    private static final String INITIALIZE = """
            {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},\
            "clientInfo":{"name":"raw","version":"1"}}}""";

    @Test
    void quoteRanksOffersFromEveryProviderByReliabilityAdjustedCost() {
        McpSyncClient client = client(newAgent("ranker").apiKey());

        List<Map<String, Object>> quotes = quotes(call(client, "quote", Map.of("gpu", "H100", "durationMinutes", 60)));

        // demo-bargain is cheaper per hour (2.00 against 2.40) but fails far more often (0.80 against 0.99),
        // so its expected cost is higher: 2.00 × (1 + 0.2 × 1.5) = 2.60 against 2.40 × (1 + 0.01 × 1.5) = 2.436.
        assertThat(quotes).extracting(quote -> quote.get("provider")).containsExactly("demo-steady", "demo-bargain");
        assertThat(quotes.getFirst())
                .containsEntry("pricePerGpuHour", "2.40")
                .containsEntry("total", "2.40")
                .containsEntry("expectedCost", "2.436")
                .containsEntry("gpuCount", 1)
                .containsEntry("vramGb", 80)
                .containsKeys("quoteId", "expiresAt", "reliability");
        assertThat(quotes.get(1)).containsEntry("pricePerGpuHour", "2.00").containsEntry("expectedCost", "2.60");
    }

    @Test
    void quoteAppliesEveryFilterTheAgentSets() {
        McpSyncClient client = client(newAgent("filterer").apiKey());

        assertThat(quotes(call(client, "quote", Map.of("gpu", "any", "durationMinutes", 30, "region", "eu-west"))))
                .extracting(quote -> quote.get("gpu")).containsExactly("L40S");
        assertThat(quotes(call(client, "quote", Map.of("gpu", "H100", "durationMinutes", 30, "maxPricePerGpuHour", "2.10"))))
                .extracting(quote -> quote.get("provider")).containsExactly("demo-bargain");
        assertThat(quotes(call(client, "quote", Map.of("gpu", "any", "durationMinutes", 30, "minVramGb", 60,
                "minReliability", 0.9)))).extracting(quote -> quote.get("gpu")).containsExactly("H100");
        assertThat(quotes(call(client, "quote", Map.of("gpu", "H100", "durationMinutes", 30, "gpuCount", 2))))
                .extracting(quote -> quote.get("provider")).containsExactly("demo-steady");
        assertThat(quotes(call(client, "quote", Map.of("gpu", "H100", "durationMinutes", 90, "gpuCount", 2))).getFirst())
                .containsEntry("total", "7.20");
    }

    @Test
    void quoteNamesAnUnknownProviderInsteadOfDroppingIt() {
        McpSyncClient client = client(newAgent("curious").apiKey());

        Map<String, Object> output = output(call(client, "quote", Map.of("gpu", "H100", "durationMinutes", 10,
                "providers", List.of("demo-steady", "demo-nowhere"))));

        assertThat(output.get("unavailableProviders")).asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.LIST)
                .singleElement().asString().contains("demo-nowhere").contains("unknown provider");
    }

    @Test
    void reserveHoldsCapacityAndAnswersWithPaymentRequirements() {
        McpSyncClient client = client(newAgent("reserver").apiKey());
        String quoteId = (String) quotes(call(client, "quote", Map.of("gpu", "L40S", "durationMinutes", 45))).getFirst().get("quoteId");
        long heldBefore = heldUnits("steady-l40s");

        Map<String, Object> reservation = output(call(client, "reserve", Map.of("quoteId", quoteId, "idempotencyKey", "reserve-l40s-1")));

        assertThat(reservation).containsEntry("status", "held").containsEntry("amount", "0.675")
                .containsEntry("replayed", false);
        assertThat(reservation.get("paymentRequirements")).asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.MAP)
                .containsEntry("scheme", "exact").containsEntry("amount", "675000").containsEntry("network", "eip155:31337")
                .containsKeys("asset", "payTo", "extra");
        assertThat((String) reservation.get("nextStep")).contains("call pay");
        assertThat(heldUnits("steady-l40s")).isEqualTo(heldBefore + 1);
    }

    @Test
    void theSameIdempotencyKeyGivesTheSameReservationAndHoldsOnce() {
        McpSyncClient client = client(newAgent("retrier").apiKey());
        String quoteId = (String) quotes(call(client, "quote", Map.of("gpu", "L40S", "durationMinutes", 10))).getFirst().get("quoteId");
        long heldBefore = heldUnits("steady-l40s");

        Map<String, Object> first = output(call(client, "reserve", Map.of("quoteId", quoteId, "idempotencyKey", "retry-key-1")));
        Map<String, Object> second = output(call(client, "reserve", Map.of("quoteId", quoteId, "idempotencyKey", "retry-key-1")));

        assertThat(second.get("reservationId")).isEqualTo(first.get("reservationId"));
        assertThat(second).containsEntry("replayed", true).containsEntry("amount", first.get("amount"))
                .containsEntry("holdExpiresAt", first.get("holdExpiresAt"));
        assertThat(count("reservations", "quote_id = :q", Map.of("q", quoteId))).isEqualTo(1);
        assertThat(heldUnits("steady-l40s")).isEqualTo(heldBefore + 1);
    }

    @Test
    void reusingAnIdempotencyKeyForAnotherQuoteIsRefused() {
        McpSyncClient client = client(newAgent("mixer").apiKey());
        List<Map<String, Object>> quotes = quotes(call(client, "quote", Map.of("gpu", "H100", "durationMinutes", 5)));
        output(call(client, "reserve", Map.of("quoteId", quotes.get(0).get("quoteId"), "idempotencyKey", "mixed-key-1")));

        Map<String, Object> error = error(call(client, "reserve",
                Map.of("quoteId", quotes.get(1).get("quoteId"), "idempotencyKey", "mixed-key-1")));

        assertThat(error).containsEntry("code", "idempotency_key_reused").containsEntry("field", "idempotencyKey");
        assertThat(count("reservations", "quote_id = :q", Map.of("q", quotes.get(1).get("quoteId")))).isZero();
    }

    @Test
    void aQuoteCanBeReservedOnlyOnce() {
        McpSyncClient client = client(newAgent("greedy").apiKey());
        String quoteId = (String) quotes(call(client, "quote", Map.of("gpu", "H100", "durationMinutes", 5))).getFirst().get("quoteId");
        output(call(client, "reserve", Map.of("quoteId", quoteId, "idempotencyKey", "greedy-key-1")));

        Map<String, Object> error = error(call(client, "reserve", Map.of("quoteId", quoteId, "idempotencyKey", "greedy-key-2")));

        assertThat(error).containsEntry("code", "quote_already_reserved").containsEntry("field", "quoteId");
        assertThat((String) error.get("nextStep")).contains("quote again");
    }

    @Test
    void anotherAgentsQuoteLooksExactlyLikeAnUnknownOne() {
        McpSyncClient owner = client(newAgent("owner").apiKey());
        McpSyncClient intruder = client(newAgent("intruder").apiKey());
        String quoteId = (String) quotes(call(owner, "quote", Map.of("gpu", "H100", "durationMinutes", 5))).getFirst().get("quoteId");

        Map<String, Object> stolen = error(call(intruder, "reserve", Map.of("quoteId", quoteId, "idempotencyKey", "steal-key-1")));
        Map<String, Object> unknown = error(call(intruder, "reserve", Map.of("quoteId", "qt_doesnotexist", "idempotencyKey", "steal-key-2")));

        assertThat(stolen.get("code")).isEqualTo("quote_not_found").isEqualTo(unknown.get("code"));
        assertThat(((String) stolen.get("message")).replace(quoteId, "ID"))
                .isEqualTo(((String) unknown.get("message")).replace("qt_doesnotexist", "ID"));
        assertThat(count("reservations", "quote_id = :q", Map.of("q", quoteId))).isZero();
    }

    @Test
    void anExpiredQuoteIsRefusedWithTheNextStep() {
        McpSyncClient client = client(newAgent("late").apiKey());
        String quoteId = (String) quotes(call(client, "quote", Map.of("gpu", "H100", "durationMinutes", 5))).getFirst().get("quoteId");
        java.time.OffsetDateTime anHourAgo = java.time.OffsetDateTime.now(java.time.ZoneOffset.UTC).minusHours(1);
        db.sql("UPDATE quotes SET created_at = :created, expires_at = :expires WHERE quote_id = :q")
                .bind("created", anHourAgo).bind("expires", anHourAgo.plusMinutes(1)).bind("q", quoteId)
                .fetch().rowsUpdated().block(Duration.ofSeconds(5));

        Map<String, Object> error = error(call(client, "reserve", Map.of("quoteId", quoteId, "idempotencyKey", "late-key-1")));

        assertThat(error).containsEntry("code", "quote_expired");
        assertThat((String) error.get("nextStep")).contains("call quote again");
        assertThat(count("reservations", "quote_id = :q", Map.of("q", quoteId))).isZero();
    }

    @Test
    void invalidArgumentsNameTheFieldAndPersistNothing() {
        McpSyncClient client = client(newAgent("sloppy").apiKey());
        long quotesBefore = count("quotes");
        long reservationsBefore = count("reservations");

        assertThat(error(call(client, "quote", Map.of("gpu", "H100", "durationMinutes", "sixty"))))
                .containsEntry("code", "invalid_argument").containsEntry("field", "durationMinutes");
        assertThat(error(call(client, "quote", Map.of("gpu", "H100", "durationMinutes", -5))))
                .containsEntry("field", "durationMinutes");
        assertThat(error(call(client, "quote", Map.of("gpu", "TPU-v9", "durationMinutes", 5))))
                .containsEntry("field", "gpu");
        assertThat(error(call(client, "quote", Map.of("durationMinutes", 5))))
                .containsEntry("field", "gpu");
        assertThat(error(call(client, "quote", Map.of("gpu", "H100", "durationMinutes", 5, "maxPricePerGpuHour", "-1"))))
                .containsEntry("field", "maxPricePerGpuHour");
        assertThat(error(call(client, "quote", Map.of("gpu", "H100", "durationMinutes", 5, "sneaky", true))))
                .containsEntry("field", "sneaky");
        assertThat(error(call(client, "quote", Map.of("gpu", "H100", "durationMinutes", 5, "region", "x".repeat(100_000)))))
                .containsEntry("field", "region");
        assertThat(error(call(client, "reserve", Map.of("quoteId", "qt_1"))))
                .containsEntry("field", "idempotencyKey");
        Map<String, Object> error = error(call(client, "reserve", Map.of("quoteId", 42, "idempotencyKey", "valid-key-1")));
        assertThat(error).containsEntry("field", "quoteId");
        assertThat((String) error.get("message")).contains("quoteId");

        assertThat(count("quotes")).isEqualTo(quotesBefore);
        assertThat(count("reservations")).isEqualTo(reservationsBefore);
    }

    @Test
    void aCallWithoutAKeyIsRefusedWithAChallenge() throws Exception {
        HttpResponse<String> response = post(HttpRequest.newBuilder(baseUri().resolve("/mcp")));

        assertThat(response.statusCode()).isEqualTo(401);
        String metadataUrl = "http://127.0.0.1:" + port + "/.well-known/oauth-protected-resource/mcp";
        assertThat(response.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(
                challenge -> assertThat(challenge).startsWith("Bearer")
                        .contains("resource_metadata=\"" + metadataUrl + "\""));

        // RFC 9728: where the challenge points, without a credential, this server's /mcp as the resource.
        HttpResponse<String> metadata = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create(metadataUrl)).GET().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(metadata.statusCode()).isEqualTo(200);
        Map<String, Object> document = json.readValue(metadata.body(), new tools.jackson.core.type.TypeReference<>() { });
        assertThat(document).containsEntry("resource", "http://127.0.0.1:" + port + "/mcp")
                .containsEntry("bearer_methods_supported", List.of("header"))
                .as("API keys only: no authorization server to send a client to").doesNotContainKey("authorization_servers");
        // A foreign Host is not reflected into the document (DNS rebinding, as on /mcp); written by hand, as below.
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            socket.getOutputStream().write(("GET /.well-known/oauth-protected-resource/mcp HTTP/1.1\r\nHost: evil.example:"
                    + port + "\r\nConnection: close\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.UTF_8));
            String answer = new String(socket.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertThat(answer).startsWith("HTTP/1.1 421").doesNotContain("evil.example");
        }
    }

    @Test
    void aCallWithAWrongKeyIsRefused() throws Exception {
        HttpResponse<String> response = post(HttpRequest.newBuilder(baseUri().resolve("/mcp"))
                .header("Authorization", "Bearer gpb_not-a-real-key"));

        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(response.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(
                challenge -> assertThat(challenge).contains("invalid_token"));
        assertThat(response.body()).doesNotContain("gpb_not-a-real-key");
    }

    @Test
    void aForeignOriginIsRefusedEvenWithAValidKey() throws Exception {
        NewAgent agent = newAgent("rebound");

        HttpResponse<String> foreign = post(HttpRequest.newBuilder(baseUri().resolve("/mcp"))
                .header("Authorization", "Bearer " + agent.apiKey())
                .header("Origin", "http://evil.example"));
        HttpResponse<String> local = post(HttpRequest.newBuilder(baseUri().resolve("/mcp"))
                .header("Authorization", "Bearer " + agent.apiKey())
                .header("Origin", "http://localhost:" + port));

        assertThat(foreign.statusCode()).isEqualTo(403);
        assertThat(local.statusCode()).isEqualTo(200);
    }

    @Test
    void aForeignHostHeaderIsRefused() throws Exception {
        NewAgent agent = newAgent("rebound-host");
        // java.net.http will not send a Host header of our choosing, so this request is written by hand.
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.setSoTimeout(10_000);
            String request = "POST /mcp HTTP/1.1\r\nHost: attacker.example:" + port + "\r\n"
                    + "Authorization: Bearer " + agent.apiKey() + "\r\nContent-Type: application/json\r\n"
                    + "Accept: application/json, text/event-stream\r\nContent-Length: " + INITIALIZE.length()
                    + "\r\nConnection: close\r\n\r\n" + INITIALIZE;
            socket.getOutputStream().write(request.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            String statusLine = new java.io.BufferedReader(new java.io.InputStreamReader(socket.getInputStream(),
                    java.nio.charset.StandardCharsets.UTF_8)).readLine();

            assertThat(statusLine).startsWith("HTTP/1.1 421");
        }
    }

    @Test
    void aSessionServesOnlyTheAgentThatOpenedIt() throws Exception {
        try (RawMcp owner = new RawMcp(baseUri(), newAgent("session-owner").apiKey(), json, Duration.ofSeconds(10)).initialize();
                RawMcp other = new RawMcp(baseUri(), newAgent("session-thief").apiKey(), json, Duration.ofSeconds(10))) {
            String list = "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"tools/list\"}";

            RawMcp.Answer stolen = other.send(HttpRequest.newBuilder(baseUri().resolve("/mcp"))
                    .POST(HttpRequest.BodyPublishers.ofString(list)), owner.sessionId());
            RawMcp.Answer deleted = other.send(HttpRequest.newBuilder(baseUri().resolve("/mcp")).DELETE(), owner.sessionId());
            RawMcp.Answer madeUp = other.send(HttpRequest.newBuilder(baseUri().resolve("/mcp"))
                    .POST(HttpRequest.BodyPublishers.ofString(list)), "00000000-0000-0000-0000-000000000000");

            for (RawMcp.Answer refused : List.of(stolen, deleted, madeUp)) {
                assertThat(refused.status()).isEqualTo(404);
                assertThat(refused.message().path("error").path("code").asInt()).isEqualTo(-32001);
            }
            assertThat(owner.post(list).message().path("result").path("tools").size()).isEqualTo(8);
        }
    }

    private static HttpResponse<String> post(HttpRequest.Builder request) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(request
                            .header("Content-Type", "application/json")
                            .header("Accept", "application/json, text/event-stream")
                            .POST(HttpRequest.BodyPublishers.ofString(INITIALIZE))
                            .timeout(Duration.ofSeconds(10))
                            .build(),
                    HttpResponse.BodyHandlers.ofString());
        }
    }

    private long heldUnits(String offerId) {
        return db.sql("SELECT held_units FROM demo_capacity WHERE offer_id = :o").bind("o", offerId)
                .map(row -> row.get("held_units", Number.class).longValue()).one().defaultIfEmpty(0L)
                .block(Duration.ofSeconds(5));
    }

}
