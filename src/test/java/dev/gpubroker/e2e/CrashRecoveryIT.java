package dev.gpubroker.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.http.HttpRequest;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.spec.McpSchema;

import dev.gpubroker.support.BrokerJar;

/** The real jar killed with SIGKILL while a paid job runs, then started again on the same data directory. */
class CrashRecoveryIT {

    @Test
    @SuppressWarnings("unchecked")
    void aJobRunningWhenTheServerIsKilledIsResolvedAfterTheRestartAndItsMoneyComesBackOnce() throws Exception {
        Path dataDir = BrokerJar.newDataDir();
        Path catalog = Path.of("src/test/resources/catalogs/jobs.yml").toAbsolutePath();
        String catalogArg = "--gpubroker.market.demo-catalog=file:" + catalog;
        String jobId;
        String key;
        try (BrokerJar first = BrokerJar.startHttp(dataDir, catalogArg)) {
            key = first.demoAgentKey();
            McpSyncClient client = client(first, key);
            assertThat(structured(client, "account", Map.of())).containsEntry("usdcBalance", "1000.00");
            String quoteId = (String) ((List<Map<String, Object>>) structured(client, "quote", Map.of("gpu", "H100",
                    "durationMinutes", 60, "providers", List.of("demo-steady"))).get("quotes")).getFirst().get("quoteId");
            String reservationId = (String) structured(client, "reserve", Map.of("quoteId", quoteId,
                    "idempotencyKey", "crash-reserve-1")).get("reservationId");
            assertThat(structured(client, "pay", Map.of("reservationId", reservationId, "idempotencyKey", "crash-pay-1")))
                    .containsEntry("status", "confirmed");
            jobId = (String) structured(client, "run", Map.of("reservationId", reservationId,
                    "idempotencyKey", "crash-run-1", "command", List.of("sleep", "300"))).get("jobId");
            awaitStatus(client, jobId, "running");

            first.kill();
        }
        long orphanPid = Long.parseLong(Files.readString(dataDir.resolve("jobs").resolve(jobId).resolve("pid")).strip());
        assertThat(ProcessHandle.of(orphanPid).map(ProcessHandle::isAlive)).as("the job outlived its server").hasValue(true);

        try (BrokerJar second = BrokerJar.startHttp(dataDir, catalogArg)) {
            McpSyncClient client = client(second, key);
            Map<String, Object> status = awaitSettled(client, jobId);

            assertThat(status).containsEntry("status", "failed").containsEntry("cost", "0.00").containsEntry("refund", "36.00");
            assertThat(status.get("events").toString()).contains("resumed").contains("not billed");
            long stopDeadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            while (running(orphanPid)) {
                assertThat(System.nanoTime()).as("the orphan was stopped").isLessThan(stopDeadline);
                Thread.sleep(100);
            }
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            // On chain first, then in the ledger once the refund's receipt is followed.
            Map<String, Object> account = structured(client, "account", Map.of());
            while (!"1000.00".equals(account.get("usdcBalance")) || !"0.00".equals(account.get("escrowed"))) {
                assertThat(System.nanoTime()).as("the refund reaches the wallet and the ledger: " + account)
                        .isLessThan(deadline);
                Thread.sleep(200);
                account = structured(client, "account", Map.of());
            }
        }
    }

    /** Alive and not a zombie (a killed orphan whose new parent does not reap it stays listed, but runs no more). */
    private static boolean running(long pid) throws Exception {
        Path stat = Path.of("/proc", Long.toString(pid), "stat");
        if (!Files.exists(stat)) {
            return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
        }
        String content = Files.readString(stat);
        return content.substring(content.lastIndexOf(')') + 2).charAt(0) != 'Z';
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> structured(McpSyncClient client, String tool, Map<String, Object> arguments) {
        McpSchema.CallToolResult result = client.callTool(new McpSchema.CallToolRequest(tool, arguments));
        assertThat(result.isError()).as(tool + ": " + result.content()).isFalse();
        return (Map<String, Object>) result.structuredContent();
    }

    private static void awaitStatus(McpSyncClient client, String jobId, String wanted) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!wanted.equals(structured(client, "job_status", Map.of("jobId", jobId)).get("status"))) {
            assertThat(System.nanoTime()).isLessThan(deadline);
            Thread.sleep(100);
        }
    }

    private static Map<String, Object> awaitSettled(McpSyncClient client, String jobId) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (true) {
            Map<String, Object> status = structured(client, "job_status", Map.of("jobId", jobId));
            if (status.get("settlementTx") != null) {
                return status;
            }
            assertThat(System.nanoTime()).as("resolved after the restart: " + status).isLessThan(deadline);
            Thread.sleep(200);
        }
    }

    private static McpSyncClient client(BrokerJar server, String key) {
        McpSyncClient client = McpClient.sync(HttpClientStreamableHttpTransport.builder("http://127.0.0.1:" + server.port())
                        .endpoint("/mcp")
                        .requestBuilder(HttpRequest.newBuilder().header("Authorization", "Bearer " + key))
                        .build())
                .requestTimeout(Duration.ofSeconds(60))
                .build();
        client.initialize();
        return client;
    }
}
