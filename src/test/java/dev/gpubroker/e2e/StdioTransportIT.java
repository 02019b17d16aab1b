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

import dev.gpubroker.support.Scratch;
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
    void stdoutCarriesNothingButJsonRpcMessagesAndTheToolListComesBeforeTheApplicationHasStarted() throws Exception {
        Path dataDir = BrokerJar.newDataDir();
        try (RawStdio server = RawStdio.start(dataDir, Map.of())) {
            server.send(INITIALIZE, INITIALIZED, """
                    {"jsonrpc":"2.0","id":2,"method":"tools/list"}""");
            List<String> lines = server.awaitAnswers(2);
            String stderrAtToolList = server.stderr();

            for (String line : lines) {
                JsonNode message = JSON.readTree(line);
                assertThat(message.path("jsonrpc").asString()).isEqualTo("2.0");
            }
            assertThat(lines.get(1)).contains("\"quote\"").contains("\"reserve\"");
            assertThat(stderrAtToolList).contains("serving MCP over stdio")
                    .as("the tool list does not wait for the database and the chain")
                    .doesNotContain("Started GpuBrokerApplication");
            assertThat(server.stopAndAwaitExit()).as("the server stops when stdin closes").isTrue();
            assertThat(Files.readAllLines(server.stdoutFile())).hasSize(2);
        }
    }

    @Test
    void anUnknownAgentKeyIsSaidOnStderrAtStartBeforeAnyToolCall() throws Exception {
        try (RawStdio server = RawStdio.start(BrokerJar.newDataDir(), Map.of("GPUBROKER_AGENT_KEY", "gpb_not-a-real-key"))) {
            server.send(INITIALIZE, INITIALIZED);
            server.awaitAnswers(1);

            assertThat(server.awaitStderrLine("GPUBROKER_AGENT_KEY is not the API key of any agent"))
                    .contains("every tool call will answer 'unauthenticated'").contains("POST /admin/v1/agents");
        }
    }

    @Test
    void aMissingAgentKeyWithoutADemoAgentIsSaidOnStderrAtStart() throws Exception {
        try (RawStdio server = RawStdio.start(BrokerJar.newDataDir(), Map.of("GPUBROKER_WALLET_PASSWORD", "stdio-test"),
                "--gpubroker.embedded-defaults=false")) {
            server.send(INITIALIZE, INITIALIZED);
            server.awaitAnswers(1);

            assertThat(server.awaitStderrLine("GPUBROKER_AGENT_KEY is not set and there is no demo agent key"))
                    .contains("every tool call will answer 'unauthenticated'");
        }
    }

    @Test
    void stdioOnTheDataDirectoryOfARunningHttpServerIsRefusedInOneLineAndLeavesThatServerAlone() throws Exception {
        Path dataDir = BrokerJar.newDataDir();
        try (BrokerJar http = BrokerJar.startHttp(dataDir)) {
            String key = http.demoAgentKey();
            long anvil = Long.parseLong(Files.readString(dataDir.resolve("chain/anvil.pid")).strip());

            try (RawStdio stdio = RawStdio.start(dataDir, Map.of())) {
                stdio.send(INITIALIZE, INITIALIZED, """
                        {"jsonrpc":"2.0","id":2,"method":"tools/list"}""", """
                        {"jsonrpc":"2.0","id":3,"method":"tools/call","params":{"name":"account","arguments":{}}}""");
                List<String> answers = stdio.awaitAnswers(3);

                assertThat(answers.get(1)).contains("\"account\"");
                JsonNode call = JSON.readTree(answers.get(2)).path("result");
                assertThat(call.path("isError").asBoolean()).isTrue();
                assertThat(call.path("content").get(0).path("text").asString()).contains("server_unavailable")
                        .contains("in use by the GPU Broker server with pid")
                        .contains("http://127.0.0.1:" + http.port());
                assertThat(stdio.stopAndAwaitExit()).isTrue();
                List<String> refusals = stdio.stderr().lines().filter(line -> line.contains("did not start")).toList();
                assertThat(refusals).hasSize(1);
                assertThat(refusals.getFirst()).startsWith("GPU Broker did not start: the data directory " + dataDir)
                        .contains("http://127.0.0.1:" + http.port()).contains("GPUBROKER_DATA_DIR");
                assertThat(stdio.stderr()).doesNotContain("\tat ").doesNotContain("Exception");
            }

            assertThat(ProcessHandle.of(anvil).map(ProcessHandle::isAlive)).as("the server's chain still runs")
                    .hasValue(true);
            McpSyncClient client = dev.gpubroker.support.JarClient.connect(http, key);
            assertThat(client.callTool(new McpSchema.CallToolRequest("account", Map.of())).isError()).isFalse();
            client.closeGracefully();
            assertThat(http.log()).doesNotContain("Stopping anvil");
        }
    }

    private static final String INITIALIZE = """
            {"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-11-25","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}""";
    private static final String INITIALIZED = """
            {"jsonrpc":"2.0","method":"notifications/initialized"}""";

    /** The jar on stdio as a raw process: JSON-RPC lines in, stdout and stderr into files. */
    private static final class RawStdio implements AutoCloseable {

        private final Process process;
        private final Path stdout;
        private final Path stderr;

        private RawStdio(Process process, Path stdout, Path stderr) {
            this.process = process;
            this.stdout = stdout;
            this.stderr = stderr;
        }

        static RawStdio start(Path dataDir, Map<String, String> environment, String... arguments) throws IOException {
            Path stdout = Scratch.file("gpubroker-stdio-", ".out");
            Path stderr = Scratch.file("gpubroker-stdio-", ".err");
            List<String> command = new java.util.ArrayList<>(List.of(BrokerJar.java(), "-jar", BrokerJar.jar().toString(),
                    "--stdio"));
            command.addAll(List.of(arguments));
            ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(stdout.toFile())
                    .redirectError(stderr.toFile());
            BrokerJar.onlyGpuBrokerSettings(builder.environment(), dataDir, environment);
            return new RawStdio(builder.start(), stdout, stderr);
        }

        void send(String... messages) throws IOException {
            for (String message : messages) {
                process.getOutputStream().write((message.strip() + "\n").getBytes(StandardCharsets.UTF_8));
            }
            process.getOutputStream().flush();
        }

        /** The first {@code count} lines on stdout, once there are that many (within 60 s). */
        List<String> awaitAnswers(int count) throws IOException, InterruptedException {
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            List<String> lines = Files.readAllLines(stdout);
            while (lines.size() < count) {
                assertThat(System.nanoTime()).as("answers on stdout so far: " + lines + "\nstderr:\n" + stderr())
                        .isLessThan(deadline);
                Thread.sleep(50);
                lines = Files.readAllLines(stdout);
            }
            return lines.subList(0, count);
        }

        /** The first stderr line that contains {@code text}, once there is one (within 90 s). */
        String awaitStderrLine(String text) throws IOException, InterruptedException {
            long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
            while (true) {
                var line = stderr().lines().filter(candidate -> candidate.contains(text)).findFirst();
                if (line.isPresent()) {
                    return line.get();
                }
                assertThat(System.nanoTime()).as("'" + text + "' on stderr; so far:\n" + stderr()).isLessThan(deadline);
                Thread.sleep(100);
            }
        }

        String stderr() throws IOException {
            return Files.readString(stderr);
        }

        Path stdoutFile() {
            return stdout;
        }

        /** Closes stdin, as a client does when it is done; true when the process exits within 60 s. */
        boolean stopAndAwaitExit() throws IOException, InterruptedException {
            process.getOutputStream().close();
            return process.waitFor(60, TimeUnit.SECONDS);
        }

        @Override
        public void close() throws Exception {
            if (process.isAlive()) {
                process.getOutputStream().close();
                if (!process.waitFor(60, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
        }
    }

    /** A stdio client session with its server process, closed together. */
    private static final class Session implements AutoCloseable {

        private final McpSyncClient client;

        Session(Path dataDir, Map<String, String> environment,
                java.util.function.Consumer<McpSchema.ProgressNotification> progress) {
            ServerParameters.Builder parameters = ServerParameters.builder(BrokerJar.java())
                    .args("-jar", BrokerJar.jar().toString(), "--stdio")
                    .addEnvVar("GPUBROKER_DATA_DIR", dataDir.toString());
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
