package dev.gpubroker.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.ServerParameters;
import io.modelcontextprotocol.client.transport.StdioClientTransport;
import io.modelcontextprotocol.json.jackson3.JacksonMcpJsonMapper;
import io.modelcontextprotocol.spec.McpSchema;

import dev.gpubroker.support.BrokerJar;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/** The packaged jar with {@code --stdio}, driven by the official MCP Java SDK client, as Claude Desktop runs it. */
class StdioTransportIT {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void aStdioClientQuotesReservesPaysAndRunsAsTheDemoAgentWithProgress() throws Exception {
        Path dataDir = BrokerJar.newDataDir();
        List<McpSchema.ProgressNotification> progress = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (Session session = new Session(dataDir, Map.of(), progress::add)) {
            McpSyncClient client = session.client();

            assertThat(client.listTools().tools()).extracting(McpSchema.Tool::name).containsExactly("account", "cancel", "job_logs", "job_status", "pay", "quote", "reserve", "run");
            McpSchema.CallToolResult quote = client.callTool(new McpSchema.CallToolRequest("quote",
                    Map.of("gpu", "any", "durationMinutes", 30, "limit", 3,
                            // demo-nimbus never refuses a hold; others of the demo market sometimes do, on purpose.
                            "providers", List.of("demo-nimbus"))));
            @SuppressWarnings("unchecked")
            List<Map<String, Object>> quotes = (List<Map<String, Object>>) ((Map<String, Object>) quote.structuredContent()).get("quotes");
            assertThat(quotes).isNotEmpty().hasSizeLessThanOrEqualTo(3);

            McpSchema.CallToolResult reserve = client.callTool(new McpSchema.CallToolRequest("reserve",
                    Map.of("quoteId", quotes.getFirst().get("quoteId"), "idempotencyKey", "stdio-reserve-1")));
            assertThat(reserve.isError()).as(String.valueOf(reserve.content())).isFalse();
            @SuppressWarnings("unchecked")
            Map<String, Object> reservation = (Map<String, Object>) reserve.structuredContent();
            assertThat(reservation).containsEntry("status", "held");

            // The demo agent starts with 1,000 test USDC on the embedded chain, so it can pay at once.
            McpSchema.CallToolResult pay = client.callTool(new McpSchema.CallToolRequest("pay",
                    Map.of("reservationId", reservation.get("reservationId"), "idempotencyKey", "stdio-pay-1")));
            assertThat(pay.isError()).as(String.valueOf(pay.content())).isFalse();
            assertThat(String.valueOf(pay.structuredContent())).contains("status=confirmed");
            McpSchema.CallToolResult account = client.callTool(new McpSchema.CallToolRequest("account", Map.of()));
            assertThat(String.valueOf(account.structuredContent())).contains("escrowed=" + reservation.get("amount"))
                    .contains("walletCustody=custodial");

            McpSchema.CallToolResult run = client.callTool(McpSchema.CallToolRequest.builder("run")
                    .arguments(Map.of("reservationId", reservation.get("reservationId"), "idempotencyKey", "stdio-run-1",
                            "command", List.of("sh", "-c", "echo hello over stdio")))
                    .progressToken(42)
                    .build());
            assertThat(run.isError()).as(String.valueOf(run.content())).isFalse();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (progress.isEmpty() || progress.getLast().total() == null) {
                assertThat(System.nanoTime()).as("progress over stdio so far: " + progress).isLessThan(deadline);
                Thread.sleep(100);
            }
            assertThat(progress).extracting(McpSchema.ProgressNotification::message)
                    .anySatisfy(message -> assertThat(message).startsWith("running"))
                    .anySatisfy(message -> assertThat(message).startsWith("completed"));
        }
        // The first start wrote the demo agent's key and the admin token, readable by the owner only.
        for (String secret : List.of("demo-agent.key", "admin.token", "wallets/.password", "wallets/relayer.json")) {
            assertThat(Files.getPosixFilePermissions(dataDir.resolve(secret)))
                    .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
        }
    }

    @Test
    void aWrongAgentKeyOnStdioGetsAnActionableError() {
        try (Session session = new Session(BrokerJar.newDataDir(), Map.of("GPUBROKER_AGENT_KEY", "gpb_wrong"),
                ignored -> { })) {
            McpSchema.CallToolResult result = session.client().callTool(new McpSchema.CallToolRequest("quote",
                    Map.of("gpu", "H100", "durationMinutes", 30)));

            assertThat(result.isError()).isTrue();
            assertThat(((McpSchema.TextContent) result.content().getFirst()).text())
                    .contains("unauthenticated").contains("GPUBROKER_AGENT_KEY");
        }
    }

    @Test
    void stdoutCarriesNothingButJsonRpcMessages() throws Exception {
        Path dataDir = BrokerJar.newDataDir();
        Path stdout = dataDir.resolve("stdout.txt");
        ProcessBuilder builder = new ProcessBuilder(BrokerJar.java(), "-jar", BrokerJar.jar().toString(), "--stdio")
                .redirectOutput(stdout.toFile())
                .redirectError(dataDir.resolve("stderr.txt").toFile());
        builder.environment().put("GPUBROKER_DATA_DIR", dataDir.toString());
        builder.environment().put("GPUBROKER_WALLETS_DIR", dataDir.resolve("wallets").toString());
        Process process = builder.start();
        String requests = """
                {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}
                {"jsonrpc":"2.0","method":"notifications/initialized"}
                {"jsonrpc":"2.0","id":2,"method":"tools/list"}
                """;
        process.getOutputStream().write(requests.getBytes(StandardCharsets.UTF_8));
        process.getOutputStream().flush();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (Files.readString(stdout).lines().count() < 2 && System.nanoTime() < deadline) {
            Thread.sleep(200);
        }
        process.getOutputStream().close();
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).as("the server stops when stdin closes").isTrue();

        List<String> lines = Files.readAllLines(stdout);
        assertThat(lines).hasSize(2);
        for (String line : lines) {
            JsonNode message = JSON.readTree(line);
            assertThat(message.path("jsonrpc").asString()).isEqualTo("2.0");
        }
        assertThat(lines.get(1)).contains("\"quote\"").contains("\"reserve\"");
        assertThat(Files.readString(dataDir.resolve("stderr.txt"))).contains("serving MCP over stdio");
    }

    /** A stdio client session with its server process, closed together. */
    private static final class Session implements AutoCloseable {

        private final McpSyncClient client;

        Session(Path dataDir, Map<String, String> environment,
                java.util.function.Consumer<McpSchema.ProgressNotification> progress) {
            ServerParameters.Builder parameters = ServerParameters.builder(BrokerJar.java())
                    .args("-jar", BrokerJar.jar().toString(), "--stdio")
                    .addEnvVar("GPUBROKER_DATA_DIR", dataDir.toString())
                    .addEnvVar("GPUBROKER_WALLETS_DIR", dataDir.resolve("wallets").toString());
            environment.forEach(parameters::addEnvVar);
            StdioClientTransport transport = new StdioClientTransport(parameters.build(), new JacksonMcpJsonMapper(JSON));
            this.client = McpClient.sync(transport)
                    .clientInfo(new McpSchema.Implementation("gpu-broker-stdio-test", "1.0"))
                    .requestTimeout(Duration.ofSeconds(60))
                    .initializationTimeout(Duration.ofSeconds(90))
                    .progressConsumer(progress)
                    .build();
            client.initialize();
        }

        McpSyncClient client() {
            return client;
        }

        @Override
        public void close() {
            client.closeGracefully();
        }
    }
}
