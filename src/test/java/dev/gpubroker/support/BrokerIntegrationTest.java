package dev.gpubroker.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.URI;
import java.net.http.HttpRequest;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.context.SpringBootTest;
import org.springframework.boot.test.web.server.LocalServerPort;
import org.springframework.r2dbc.core.DatabaseClient;
import org.springframework.test.context.ActiveProfiles;
import org.springframework.test.context.DynamicPropertyRegistry;
import org.springframework.test.context.DynamicPropertySource;

import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;

import dev.gpubroker.identity.AgentService;
import dev.gpubroker.identity.NewAgent;
import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * A real server on a random loopback port with its own data directory, and official MCP Java SDK clients talking to
 * it over streamable HTTP, as an agent would.
 */
@SpringBootTest(webEnvironment = SpringBootTest.WebEnvironment.RANDOM_PORT)
@ActiveProfiles("test")
public abstract class BrokerIntegrationTest {

    @LocalServerPort
    protected int port;

    @Autowired
    protected AgentService agents;

    @Autowired
    protected DatabaseClient db;

    @Autowired
    protected JsonMapper json;

    private final List<McpSyncClient> openClients = new ArrayList<>();

    @DynamicPropertySource
    static void freshDataDirectory(DynamicPropertyRegistry registry) {
        // Called once per application context: each context gets its own directory, asked for as often as needed.
        String dataDir = Scratch.directory("gpubroker-test-").toString();
        registry.add("gpubroker.data-dir", () -> dataDir);
        registry.add("gpubroker.wallets.dir", () -> dataDir + "/wallets");
    }

    @AfterEach
    void closeClients() {
        openClients.forEach(McpSyncClient::closeGracefully);
        openClients.clear();
    }

    protected NewAgent newAgent(String name) {
        return agents.create(name, null).block(Duration.ofSeconds(10));
    }

    protected URI baseUri() {
        return URI.create("http://127.0.0.1:" + port);
    }

    /** An initialized SDK client that authenticates with this API key. */
    protected McpSyncClient client(String apiKey) {
        HttpClientStreamableHttpTransport transport = HttpClientStreamableHttpTransport.builder(baseUri().toString())
                .endpoint("/mcp")
                .requestBuilder(HttpRequest.newBuilder().header("Authorization", "Bearer " + apiKey))
                .build();
        McpSyncClient client = McpClient.sync(transport)
                .clientInfo(new McpSchema.Implementation("gpu-broker-tests", "1.0"))
                .requestTimeout(Duration.ofSeconds(30))
                .build();
        client.initialize();
        openClients.add(client);
        return client;
    }

    protected static CallToolResult call(McpSyncClient client, String tool, Map<String, Object> arguments) {
        return client.callTool(new McpSchema.CallToolRequest(tool, arguments));
    }

    @SuppressWarnings("unchecked")
    protected static Map<String, Object> output(CallToolResult result) {
        if (Boolean.TRUE.equals(result.isError())) {
            throw new AssertionError("expected a successful tool result, got an error: " + result.content());
        }
        return (Map<String, Object>) result.structuredContent();
    }

    /** The {@code error} object of an isError result (it travels as JSON text). */
    protected Map<String, Object> error(CallToolResult result) {
        if (!Boolean.TRUE.equals(result.isError())) {
            throw new AssertionError("expected an error result, got " + result.structuredContent());
        }
        // The error travels as JSON text; an x402 PaymentRequired puts its own wrapper first (x402 MCP transport).
        for (McpSchema.Content content : result.content()) {
            String text = ((McpSchema.TextContent) content).text();
            Map<String, Object> body = json.readValue(text, new TypeReference<Map<String, Object>>() { });
            if (body.get("error") instanceof Map<?, ?>) {
                @SuppressWarnings("unchecked")
                Map<String, Object> error = (Map<String, Object>) body.get("error");
                return error;
            }
        }
        throw new AssertionError("an error result without an {\"error\": ...} text: " + result.content());
    }

    /** Quotes {@code gpu} for {@code minutes} at {@code provider} and reserves the best quote; answers its id. */
    protected String heldReservation(McpSyncClient client, String gpu, String provider, int minutes, String key) {
        String quoteId = (String) quotes(call(client, "quote", Map.of("gpu", gpu, "durationMinutes", minutes,
                "providers", List.of(provider)))).getFirst().get("quoteId");
        return (String) output(call(client, "reserve", Map.of("quoteId", quoteId, "idempotencyKey", key)))
                .get("reservationId");
    }

    /** A reservation as {@link #heldReservation}, paid with the agent's custodial wallet and confirmed on chain. */
    protected String paidReservation(McpSyncClient client, String gpu, String provider, int minutes, String key) {
        String reservationId = heldReservation(client, gpu, provider, minutes, key + "-reserve");
        assertThat(output(call(client, "pay", Map.of("reservationId", reservationId, "idempotencyKey", key + "-pay"))))
                .containsEntry("status", "confirmed");
        return reservationId;
    }

    /** Polls {@code job_status} until the job's reservation is settled or refunded on chain (two minutes at most). */
    protected Map<String, Object> awaitSettled(McpSyncClient client, String jobId) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
        while (true) {
            Map<String, Object> status = output(call(client, "job_status", Map.of("jobId", jobId)));
            String reservation = (String) status.get("reservationId");
            boolean closed = count("reservations", "reservation_id = :r AND state IN ('SETTLED', 'REFUNDED')",
                    Map.of("r", reservation)) == 1;
            if (closed && status.get("settlementTx") != null) {
                return status;
            }
            assertThat(System.nanoTime()).as("job " + jobId + " settled in time: " + status).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    @SuppressWarnings("unchecked")
    protected static List<Map<String, Object>> quotes(CallToolResult result) {
        return (List<Map<String, Object>>) output(result).get("quotes");
    }

    protected long count(String table) {
        return db.sql("SELECT COUNT(*) AS n FROM " + table).map(row -> row.get("n", Number.class).longValue())
                .one().block(Duration.ofSeconds(10));
    }

    protected long count(String table, String where, Map<String, Object> bindings) {
        var spec = db.sql("SELECT COUNT(*) AS n FROM " + table + " WHERE " + where);
        for (var binding : bindings.entrySet()) {
            spec = spec.bind(binding.getKey(), binding.getValue());
        }
        return spec.map(row -> row.get("n", Number.class).longValue()).one().block(Duration.ofSeconds(10));
    }

    protected static Path projectDirectory() {
        return Path.of(System.getProperty("gpubroker.projectDir", ".")).toAbsolutePath().normalize();
    }
}
