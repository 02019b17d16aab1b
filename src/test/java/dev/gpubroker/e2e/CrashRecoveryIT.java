package dev.gpubroker.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static dev.gpubroker.support.JarClient.awaitFunded;
import static dev.gpubroker.support.JarClient.awaitSettled;
import static dev.gpubroker.support.JarClient.structured;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import org.junit.jupiter.api.Test;

import io.modelcontextprotocol.client.McpSyncClient;

import dev.gpubroker.money.Usdc;
import dev.gpubroker.support.AdminClient;
import dev.gpubroker.support.BrokerJar;
import dev.gpubroker.support.JarClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The real jar killed with SIGKILL while a paid job is launching, running or settling, then started again on the same
 * data directory: every job is taken up again and ends as it would have without the crash, billed for the GPU-seconds
 * it really ran, settled exactly once (the escrow's own events and the reconciliation say so), with no refund lost.
 */
class CrashRecoveryIT {

    private static final Path CATALOG = Path.of("src/test/resources/catalogs/jobs.yml").toAbsolutePath();
    private static final String CATALOG_ARG = "--gpubroker.market.demo-catalog=file:" + CATALOG;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void aJobRunningWhenTheServerIsKilledKeepsRunningIsTakenBackAfterTheRestartAndSettledOnce() throws Exception {
        Path dataDir = BrokerJar.newDataDir();
        String jobId;
        String key;
        try (BrokerJar first = BrokerJar.startHttp(dataDir, CATALOG_ARG)) {
            key = first.demoAgentKey();
            McpSyncClient client = JarClient.connect(first, key);
            String reservationId = paidReservation(client, "H100", "demo-steady", "crash-running");
            jobId = (String) structured(client, "run", Map.of("reservationId", reservationId, "idempotencyKey",
                    "crash-running-run", "command", List.of("sh", "-c", "sleep 6; echo survived the crash"))).get("jobId");
            awaitStatus(client, jobId, "running");

            first.kill();
        }
        long pid = Long.parseLong(launchRecord(dataDir, jobId).getProperty("pid"));
        assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive)).as("the job outlived its server").hasValue(true);

        try (BrokerJar second = BrokerJar.startHttp(dataDir, CATALOG_ARG)) {
            McpSyncClient client = JarClient.connect(second, key);
            Map<String, Object> status = awaitSettled(client, jobId);

            assertThat(status).containsEntry("status", "completed").containsEntry("exitCode", 0);
            assertThat(status.get("events").toString()).contains("resumed").contains("followed again after a restart");
            long gpuSeconds = ((Number) status.get("gpuSeconds")).longValue();
            assertThat(gpuSeconds).as("metered from its start to its real end, across the crash").isBetween(6L, 9L);
            assertThat(structured(client, "job_logs", Map.of("jobId", jobId)).get("lines").toString())
                    .contains("survived the crash");
            assertSettledOnce(second, client, dataDir, Usdc.ofMicros(gpuSeconds * 10_000));
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void aJobLaunchingWhenTheServerIsKilledIsLaunchedOnceAfterTheRestart() throws Exception {
        Path dataDir = BrokerJar.newDataDir();
        String jobId;
        String key;
        try (BrokerJar first = BrokerJar.startHttp(dataDir, CATALOG_ARG)) {
            key = first.demoAgentKey();
            McpSyncClient client = JarClient.connect(first, key);
            // demo-slowboot's nodes take 6 s to come up: the kill lands while the launch is under way.
            String reservationId = paidReservation(client, "H200", "demo-slowboot", "crash-launching");
            jobId = (String) structured(client, "run", Map.of("reservationId", reservationId, "idempotencyKey",
                    "crash-launching-run", "command", List.of("sh", "-c", "echo ran once; sleep 1"))).get("jobId");
            Thread.sleep(1_000);
            assertThat(structured(client, "job_status", Map.of("jobId", jobId))).containsEntry("status", "launching");

            first.kill();
        }
        assertThat(dataDir.resolve("jobs").resolve(jobId)).as("nothing was started before the crash").doesNotExist();

        try (BrokerJar second = BrokerJar.startHttp(dataDir, CATALOG_ARG)) {
            McpSyncClient client = JarClient.connect(second, key);
            Map<String, Object> status = awaitSettled(client, jobId);

            assertThat(status).containsEntry("status", "completed").containsEntry("exitCode", 0)
                    .containsEntry("provider", "demo-slowboot");
            assertThat(status.get("events").toString()).contains("launch taken up again after a restart");
            assertThat((List<Object>) structured(client, "job_logs", Map.of("jobId", jobId)).get("lines"))
                    .as("launched exactly once").containsExactly("ran once");
            long gpuSeconds = ((Number) status.get("gpuSeconds")).longValue();
            assertThat(gpuSeconds).isBetween(1L, 3L);
            assertSettledOnce(second, client, dataDir, Usdc.ofMicros(gpuSeconds * 10_000));
        }
    }

    @Test
    void aJobSettlingWhenTheServerIsKilledIsSettledExactlyOnceAfterTheRestart() throws Exception {
        Path dataDir = BrokerJar.newDataDir();
        // Blocks every 6 s, as on a real chain: the settlement waits in the mempool when the server dies.
        String blockTime = "--gpubroker.chain.embedded-block-time=6s";
        String jobId;
        String key;
        try (BrokerJar first = BrokerJar.startHttp(dataDir, CATALOG_ARG, blockTime)) {
            key = first.demoAgentKey();
            McpSyncClient client = JarClient.connect(first, key);
            String reservationId = paidReservation(client, "H100", "demo-steady", "crash-settling");
            jobId = (String) structured(client, "run", Map.of("reservationId", reservationId, "idempotencyKey",
                    "crash-settling-run", "command", List.of("sh", "-c", "echo quick"))).get("jobId");
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (structured(client, "job_status", Map.of("jobId", jobId)).get("settlementTx") == null) {
                assertThat(System.nanoTime()).as("the settlement is submitted").isLessThan(deadline);
                Thread.sleep(50);
            }
            JsonNode reservation = JSON.readTree(admin(first, dataDir).get("/admin/v1/reservations/" + reservationId).body());
            assertThat(reservation.get("status").asString()).as("settlement submitted, not yet confirmed").isEqualTo("running");

            first.kill();
        }

        try (BrokerJar second = BrokerJar.startHttp(dataDir, CATALOG_ARG, blockTime)) {
            McpSyncClient client = JarClient.connect(second, key);
            Map<String, Object> status = awaitSettled(client, jobId);

            assertThat(status).containsEntry("status", "completed");
            long gpuSeconds = ((Number) status.get("gpuSeconds")).longValue();
            assertSettledOnce(second, client, dataDir, Usdc.ofMicros(gpuSeconds * 10_000));
        }
    }

    /**
     * The wallet got back exactly what was not used, the escrow holds nothing, and the chain saw one deposit and one
     * settlement, matching the ledger line for line.
     */
    private static void assertSettledOnce(BrokerJar server, McpSyncClient client, Path dataDir, Usdc cost) throws Exception {
        String expectedBalance = Usdc.parse("1000.00").minus(cost).toDecimalString();
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        Map<String, Object> account = structured(client, "account", Map.of());
        while (!expectedBalance.equals(account.get("usdcBalance")) || !"0.00".equals(account.get("escrowed"))) {
            assertThat(System.nanoTime()).as("the settlement reaches the wallet and the ledger: " + account)
                    .isLessThan(deadline);
            Thread.sleep(200);
            account = structured(client, "account", Map.of());
        }
        JsonNode report = JSON.readTree(admin(server, dataDir).get("/admin/v1/reconciliation").body());
        assertThat(report.get("escrowEvents").asInt()).as("one deposit and one settlement on chain: " + report).isEqualTo(2);
        assertThat(report.get("mismatches").isEmpty()).as("ledger and chain agree: " + report).isTrue();
    }

    private static AdminClient admin(BrokerJar server, Path dataDir) throws Exception {
        return new AdminClient(URI.create("http://127.0.0.1:" + server.port()), dataDir);
    }

    private static Properties launchRecord(Path dataDir, String jobId) throws Exception {
        Properties record = new Properties();
        try (var in = Files.newBufferedReader(dataDir.resolve("jobs").resolve(jobId).resolve("launch.properties"))) {
            record.load(in);
        }
        return record;
    }

    @SuppressWarnings("unchecked")
    private static String paidReservation(McpSyncClient client, String gpu, String provider, String key)
            throws InterruptedException {
        awaitFunded(client);
        String quoteId = (String) ((List<Map<String, Object>>) structured(client, "quote", Map.of("gpu", gpu,
                "durationMinutes", 60, "providers", List.of(provider))).get("quotes")).getFirst().get("quoteId");
        String reservationId = (String) structured(client, "reserve", Map.of("quoteId", quoteId,
                "idempotencyKey", key + "-reserve")).get("reservationId");
        assertThat(structured(client, "pay", Map.of("reservationId", reservationId, "idempotencyKey", key + "-pay")))
                .containsEntry("status", "confirmed");
        return reservationId;
    }

    private static void awaitStatus(McpSyncClient client, String jobId, String wanted) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!wanted.equals(structured(client, "job_status", Map.of("jobId", jobId)).get("status"))) {
            assertThat(System.nanoTime()).isLessThan(deadline);
            Thread.sleep(100);
        }
    }
}
