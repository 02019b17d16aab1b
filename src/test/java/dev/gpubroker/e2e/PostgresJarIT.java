package dev.gpubroker.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static dev.gpubroker.support.JarClient.awaitFunded;
import static dev.gpubroker.support.JarClient.awaitSettled;
import static dev.gpubroker.support.JarClient.structured;

import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import io.modelcontextprotocol.client.McpSyncClient;

import dev.gpubroker.money.Usdc;
import dev.gpubroker.support.AdminClient;
import dev.gpubroker.support.BrokerJar;
import dev.gpubroker.support.JarClient;
import dev.gpubroker.support.PostgresDatabase;
import dev.gpubroker.support.TestPostgres;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The real jar on a real PostgreSQL server, as an operator runs it with {@code --gpubroker.database.url}: a whole
 * purchase (quote, reserve, pay, run, settle) kept there, and still there after a restart; and a server that cannot be
 * reached refused at start in a line that names it and never shows the password.
 */
@ExtendWith(PostgresDatabase.Availability.class)
class PostgresJarIT {

    private static final Path CATALOG = Path.of("src/test/resources/catalogs/jobs.yml").toAbsolutePath();
    private static final String CATALOG_ARG = "--gpubroker.market.demo-catalog=file:" + CATALOG;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    @SuppressWarnings("unchecked")
    void aPurchaseFromQuoteToSettlementLivesInPostgresqlAndOutlivesARestart() throws Exception {
        TestPostgres postgres = TestPostgres.server();
        String url = postgres.newDatabaseUrl();
        String database = url.substring(url.lastIndexOf('/') + 1);
        String databaseArg = "--gpubroker.database.url=" + url;
        Path dataDir = BrokerJar.newDataDir();
        String key;
        String quoteId;
        String reservationId;
        String jobId;
        Map<String, Object> settled;
        String balanceAfter;
        try (BrokerJar first = BrokerJar.startHttp(dataDir, CATALOG_ARG, databaseArg)) {
            key = first.demoAgentKey();
            McpSyncClient client = JarClient.connect(first, key);
            awaitFunded(client);
            quoteId = (String) ((List<Map<String, Object>>) structured(client, "quote", Map.of("gpu", "H100",
                    "durationMinutes", 60, "providers", List.of("demo-steady"))).get("quotes")).getFirst().get("quoteId");
            reservationId = (String) structured(client, "reserve", Map.of("quoteId", quoteId,
                    "idempotencyKey", "pg-reserve")).get("reservationId");
            assertThat(structured(client, "pay", Map.of("reservationId", reservationId, "idempotencyKey", "pg-payment")))
                    .containsEntry("status", "confirmed");
            jobId = (String) structured(client, "run", Map.of("reservationId", reservationId, "idempotencyKey", "pg-run-job",
                    "command", List.of("sh", "-c", "echo stored in postgres; sleep 1"))).get("jobId");
            settled = awaitSettled(client, jobId);
            assertThat(settled).containsEntry("status", "completed").containsEntry("exitCode", 0);
            long gpuSeconds = ((Number) settled.get("gpuSeconds")).longValue();
            balanceAfter = awaitAccount(client, Usdc.parse("1000.00").minus(Usdc.ofMicros(gpuSeconds * 10_000)));
            assertReconciled(first, dataDir);

            assertThat(first.log()).contains("Database: PostgreSQL at 127.0.0.1:" + postgres.port() + "/" + database)
                    .doesNotContain(postgres.password());
        }
        assertThat(dataDir.resolve("gpubroker.mv.db")).as("no embedded database beside PostgreSQL").doesNotExist();
        try (Connection connection = postgres.connect(database);
                PreparedStatement statement = connection.prepareStatement(
                        "SELECT r.state, j.state AS job_state FROM reservations r JOIN jobs j USING (reservation_id) "
                                + "WHERE r.reservation_id = ?")) {
            statement.setString(1, reservationId);
            try (ResultSet row = statement.executeQuery()) {
                assertThat(row.next()).as("the reservation is a row in PostgreSQL").isTrue();
                assertThat(row.getString("state")).isEqualTo("SETTLED");
                assertThat(row.getString("job_state")).isEqualTo("COMPLETED");
            }
        }

        try (BrokerJar second = BrokerJar.startHttp(dataDir, CATALOG_ARG, databaseArg)) {
            McpSyncClient client = JarClient.connect(second, key);
            Map<String, Object> again = structured(client, "job_status", Map.of("jobId", jobId));
            assertThat(again).containsEntry("status", "completed").containsEntry("gpuSeconds", settled.get("gpuSeconds"))
                    .containsEntry("settlementTx", settled.get("settlementTx"));
            assertThat(structured(client, "account", Map.of())).containsEntry("usdcBalance", balanceAfter)
                    .containsEntry("escrowed", "0.00");
            assertThat(structured(client, "reserve", Map.of("quoteId", quoteId, "idempotencyKey", "pg-reserve")))
                    .as("the first reservation's idempotency key is still claimed")
                    .containsEntry("reservationId", reservationId).containsEntry("replayed", true);
            assertReconciled(second, dataDir);
            assertThat(second.log()).contains("Database schema at version").doesNotContain(postgres.password());
        }
    }

    @Test
    void aPostgresqlThatCannotBeReachedIsRefusedInOneLineThatNamesItWithoutThePassword() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        String password = "never-in-a-log-" + closedPort;
        Path dataDir = BrokerJar.newDataDir();
        // The environment variable form of the setting, as in a container.
        Map<String, String> environment = Map.of("GPUBROKER_DATA_DIR", dataDir.toString(),
                "GPUBROKER_DATABASE_URL", "r2dbc:postgresql://broker:" + password + "@127.0.0.1:" + closedPort + "/broker");
        BrokerJar.Result refused = BrokerJar.run(List.of(BrokerJar.java(), "-jar", BrokerJar.jar().toString(),
                "--server.port=0"), environment, Duration.ofSeconds(90));

        assertThat(refused.exitCode()).as(refused.output()).isEqualTo(1);
        assertThat(refused.output())
                .contains("GPU Broker did not start: cannot reach PostgreSQL at 127.0.0.1:" + closedPort
                        + " (ConnectException: Connection refused): start it, or correct gpubroker.database.url")
                .doesNotContain(password)
                .doesNotContain("\tat ");
    }

    /** Waits until the wallet holds {@code expected} and nothing is left in escrow; answers the balance. */
    private static String awaitAccount(McpSyncClient client, Usdc expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        Map<String, Object> account = structured(client, "account", Map.of());
        while (!expected.toDecimalString().equals(account.get("usdcBalance")) || !"0.00".equals(account.get("escrowed"))) {
            assertThat(System.nanoTime()).as("the settlement reaches the wallet and the ledger: " + account)
                    .isLessThan(deadline);
            Thread.sleep(200);
            account = structured(client, "account", Map.of());
        }
        return (String) account.get("usdcBalance");
    }

    private static void assertReconciled(BrokerJar server, Path dataDir) throws Exception {
        JsonNode report = JSON.readTree(new AdminClient(URI.create("http://127.0.0.1:" + server.port()), dataDir)
                .get("/admin/v1/reconciliation").body());
        assertThat(report.get("escrowEvents").asInt()).as("one deposit and one settlement on chain: " + report).isEqualTo(2);
        assertThat(report.get("mismatches").isEmpty()).as("ledger and chain agree: " + report).isTrue();
    }
}
