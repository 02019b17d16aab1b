package dev.gpubroker.bench;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema;

import dev.gpubroker.support.BrokerJar;
import dev.gpubroker.support.JarClient;

/**
 * Quote latency through the real jar and the real MCP HTTP transport, on the default demo marketplace, where
 * demo-hashfarm hangs on 15 % of requests and every provider has its own answer latency (60 ms to 1.2 s).
 * Prints percentiles; not a test. Run after {@code mvn package -DskipTests}:
 *
 * <pre>mvn -q test-compile exec:java -Dexec.mainClass=dev.gpubroker.bench.QuoteLatencyBenchmark -Dexec.classpathScope=test</pre>
 */
public final class QuoteLatencyBenchmark {

    private static final int WARMUP = 10;
    private static final int CALLS = 100;

    public static void main(String[] args) throws Exception {
        try (BrokerJar server = BrokerJar.startHttp(BrokerJar.newDataDir())) {
            McpSyncClient client = JarClient.connect(server, server.demoAgentKey());
            Map<String, Object> all = Map.of("gpu", "H100", "durationMinutes", 60);
            Map<String, Object> withoutHanging = Map.of("gpu", "H100", "durationMinutes", 60,
                    "providers", List.of("demo-nimbus", "demo-sparkgrid", "demo-hyperion", "demo-vastlane"));
            for (int i = 0; i < WARMUP; i++) {
                client.callTool(new McpSchema.CallToolRequest("quote", all));
            }
            System.out.printf("quote latency over streamable HTTP, %d calls each, provider timeout 3 s%n", CALLS);
            measure(client, "all 5 providers (demo-hashfarm hangs 15% of the time)", all);
            measure(client, "4 providers, without demo-hashfarm", withoutHanging);
            client.closeGracefully();
        }
    }

    @SuppressWarnings("unchecked")
    private static void measure(McpSyncClient client, String label, Map<String, Object> arguments) {
        List<Long> millis = new ArrayList<>();
        int withUnavailable = 0;
        for (int i = 0; i < CALLS; i++) {
            long start = System.nanoTime();
            McpSchema.CallToolResult result = client.callTool(new McpSchema.CallToolRequest("quote", arguments));
            millis.add((System.nanoTime() - start) / 1_000_000);
            List<Object> unavailable = (List<Object>) ((Map<String, Object>) result.structuredContent()).get("unavailableProviders");
            if (!unavailable.isEmpty()) {
                withUnavailable++;
            }
        }
        millis.sort(Long::compare);
        System.out.printf("%-55s p50 %5d ms  p95 %5d ms  max %5d ms  (%d of %d answers named an unavailable provider)%n",
                label, millis.get(CALLS / 2), millis.get(CALLS * 95 / 100), millis.getLast(), withUnavailable, CALLS);
    }
}
