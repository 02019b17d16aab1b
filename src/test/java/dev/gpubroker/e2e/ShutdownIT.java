package dev.gpubroker.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema;

import dev.gpubroker.support.BrokerJar;
import dev.gpubroker.support.JarClient;

/** A service manager's stop (SIGTERM) while an MCP client stays connected: the server exits promptly with its chain. */
class ShutdownIT {

    @Test
    void aStopWithAClientStillConnectedEndsTheServerAndItsEmbeddedChainWithinSeconds() throws Exception {
        Path dataDir = BrokerJar.newDataDir();
        try (BrokerJar server = BrokerJar.startHttp(dataDir)) {
            McpSyncClient client = JarClient.connect(server, server.demoAgentKey());
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
