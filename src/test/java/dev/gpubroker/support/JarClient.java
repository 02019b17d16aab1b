package dev.gpubroker.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.time.Duration;
import java.util.Map;

import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema;

/** The official MCP Java client against a running jar, and the few calls the end-to-end tests make with it. */
public final class JarClient {

    private JarClient() {
    }

    /** An initialized client over streamable HTTP, authenticated with the agent's key. */
    public static McpSyncClient connect(BrokerJar server, String agentKey) {
        McpSyncClient client = McpClient.sync(HttpClientStreamableHttpTransport.builder("http://127.0.0.1:" + server.port())
                        .endpoint("/mcp")
                        .requestBuilder(HttpRequest.newBuilder().header("Authorization", "Bearer " + agentKey))
                        .build())
                .requestTimeout(Duration.ofSeconds(60))
                .build();
        client.initialize();
        return client;
    }

    /** A tool's structured answer; the call must succeed. */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> structured(McpSyncClient client, String tool, Map<String, Object> arguments) {
        McpSchema.CallToolResult result = client.callTool(new McpSchema.CallToolRequest(tool, arguments));
        assertThat(result.isError()).as(tool + ": " + result.content()).isFalse();
        return (Map<String, Object>) result.structuredContent();
    }

    /** Waits until the job has ended and its escrow settlement or refund was submitted; answers its last status. */
    public static Map<String, Object> awaitSettled(McpSyncClient client, String jobId) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        while (true) {
            Map<String, Object> status = structured(client, "job_status", Map.of("jobId", jobId));
            if (status.get("settlementTx") != null && !"running".equals(status.get("status"))
                    && !"launching".equals(status.get("status"))) {
                return status;
            }
            assertThat(System.nanoTime()).as("job " + jobId + " settled in time: " + status).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    /** Waits until the demo agent's test USDC is minted (the first start funds it). */
    public static void awaitFunded(McpSyncClient client) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!"1000.00".equals(structured(client, "account", Map.of()).get("usdcBalance"))) {
            assertThat(System.nanoTime()).as("the demo agent's test USDC is minted").isLessThan(deadline);
            Thread.sleep(200);
        }
    }
}
