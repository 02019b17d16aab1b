package dev.gpubroker.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema;

import dev.gpubroker.support.BrokerJar;

/** A service manager's stop (SIGTERM) while an MCP client stays connected: the server exits promptly with its chain. */
class ShutdownIT {

    @Test
    void aStopWithAClientStillConnectedEndsTheServerAndItsEmbeddedChainWithinSeconds() throws Exception {
        Path dataDir = BrokerJar.newDataDir();
        try (BrokerJar server = BrokerJar.startHttp(dataDir)) {
            McpSyncClient client = McpClient.sync(HttpClientStreamableHttpTransport.builder(
                                    "http://127.0.0.1:" + server.port())
                            .endpoint("/mcp")
                            .requestBuilder(HttpRequest.newBuilder()
                                    .header("Authorization", "Bearer " + server.demoAgentKey()))
                            .build())
                    .requestTimeout(Duration.ofSeconds(30))
                    .build();
            client.initialize();
            assertThat(client.callTool(new McpSchema.CallToolRequest("account", Map.of())).isError()).isFalse();
            long anvil = Long.parseLong(Files.readString(dataDir.resolve("chain").resolve("anvil.pid")).strip());

            long startNanos = System.nanoTime();
            assertThat(server.stop(Duration.ofSeconds(15))).as("the server exits though a client's stream is open")
                    .isTrue();

            System.out.printf("stopped in %d ms with a client connected%n", (System.nanoTime() - startNanos) / 1_000_000);
            long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
            while (ProcessHandle.of(anvil).map(ProcessHandle::isAlive).orElse(false)) {
                assertThat(System.nanoTime()).as("the embedded chain stops with the server").isLessThan(deadline);
                Thread.sleep(100);
            }
            assertThat(server.log()).contains("Commencing graceful shutdown");
        }
    }
}
