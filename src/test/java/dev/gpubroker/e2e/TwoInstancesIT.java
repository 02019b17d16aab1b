package dev.gpubroker.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.http.HttpService;

import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema;

import dev.gpubroker.support.BrokerJar;
import dev.gpubroker.support.Fleet;
import dev.gpubroker.support.JarClient;
import dev.gpubroker.support.PostgresDatabase;
import dev.gpubroker.support.TestPostgres;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Two broker jars on one PostgreSQL and one chain, as several instances run in production: a hundred agents' whole
 * purchases spread over both, each agent's budget raced from both at once, and one instance killed with SIGKILL while
 * every job runs. The other takes up the dead one's jobs within the lease, and every job ends and is paid for exactly
 * once: the chain's relayer nonces have no gap and the ledger agrees with the chain.
 *
 * <p>The topology is {@link Fleet}'s.
 */
@ExtendWith(PostgresDatabase.Availability.class)
class TwoInstancesIT {

    private static final int AGENTS = 100;
    // Longer than the flows take to start every job (about 20 s on two idle cores), so that the kill lands mid-run.
    private static final int JOB_SECONDS = 40;
    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void aHundredAgentsOverTwoInstancesOneKilledMidRunEveryJobEndsAndIsPaidOnce() throws Exception {
        TestPostgres postgres = TestPostgres.server();
        try (Fleet fleet = Fleet.start(postgres); Connection sql = postgres.connect(fleet.databaseName())) {
            BrokerJar a = fleet.first();
            BrokerJar b = fleet.startAnother();
            String engineB = Fleet.engineId(b);
            // Each agent's total limit (0.15) lets one 0.10 reservation through, never two.
            List<Fleet.Agent> agents = fleet.agents("fleet", AGENTS, BigInteger.valueOf(1_000_000), "0.15");

            long flowsStart = System.nanoTime();
            List<String> jobIds = runFlows(agents, a, b);
            double flowSeconds = (System.nanoTime() - flowsStart) / 1e9;
            System.out.printf("TwoInstancesIT: %d flows up to the run call in %.1f s%n", AGENTS, flowSeconds);
            assertThat(jobIds).hasSize(AGENTS).doesNotHaveDuplicates();
            awaitCount(sql, "SELECT count(*) FROM jobs WHERE state = 'LAUNCHING'", 0, Duration.ofSeconds(60));
            long running = count(sql, "SELECT count(*) FROM jobs WHERE state = 'RUNNING'");
            long heldByB = count(sql, "SELECT count(*) FROM jobs WHERE state = 'RUNNING' AND lease_holder = '"
                    + engineB + "'");
            assertThat(heldByB).as("B follows some of the running jobs").isPositive();

            b.kill();
            long killedAt = System.nanoTime();
            awaitCount(sql, "SELECT count(*) FROM jobs WHERE state IN ('LAUNCHING', 'RUNNING') AND lease_holder = '"
                    + engineB + "'", 0, Duration.ofSeconds(30));
            double takeoverSeconds = (System.nanoTime() - killedAt) / 1e9;
            awaitCount(sql, "SELECT count(*) FROM reservations WHERE state = 'SETTLED'", AGENTS, Duration.ofSeconds(180));
            double settledSeconds = (System.nanoTime() - killedAt) / 1e9;

            assertEveryJobEndedAndWasPaidOnce(sql);
            assertThat(count(sql, "SELECT count(DISTINCT job_id) FROM job_events WHERE kind = 'resumed'"))
                    .as("each job the dead instance held says it was taken up").isGreaterThanOrEqualTo(heldByB);
            assertRelayerNoncesGapless(sql, fleet.anvilUrl(), fleet.relayer());
            assertThat(count(sql, "SELECT count(*) FROM agent_policies p WHERE (SELECT COALESCE(SUM(amount_micros), 0) "
                    + "FROM budget_holds h WHERE h.agent_id = p.agent_id AND h.state IN ('HELD', 'SPENT')) > p.total_limit_micros"))
                    .as("no agent's holds exceed its total limit").isZero();
            JsonNode report = JSON.readTree(fleet.admin().get("/admin/v1/reconciliation").body());
            assertThat(report.get("mismatches").isEmpty()).as("ledger and chain agree: " + report).isTrue();
            assertThat(report.get("escrowEvents").asInt()).as("a deposit and a settlement per job: " + report)
                    .isEqualTo(2 * AGENTS);

            System.out.printf("TwoInstancesIT: %d agents' flows (quote, two racing reserves, pay, run) over two "
                            + "instances in %.1f s (%.2f flows/s); B killed with %d of %d running jobs; A held every one "
                            + "of them %.1f s after the kill; all %d settled %.1f s after the kill%n", AGENTS, flowSeconds,
                    AGENTS / flowSeconds, heldByB, running, takeoverSeconds, AGENTS, settledSeconds);
            assertThat(takeoverSeconds).as("every job of the dead instance taken up within 10 s").isLessThanOrEqualTo(10.0);
        }
    }

    /**
     * Each agent quotes at its instance, reserves there and at the other instance at the same moment (its limit lets
     * only one through), pays and runs where its reservation was made. Answers the job ids.
     */
    private static List<String> runFlows(List<Fleet.Agent> agents, BrokerJar a, BrokerJar b) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(20);
        try {
            List<Future<String>> flows = new ArrayList<>();
            for (int i = 0; i < agents.size(); i++) {
                Fleet.Agent agent = agents.get(i);
                BrokerJar home = i % 2 == 0 ? a : b;
                BrokerJar away = i % 2 == 0 ? b : a;
                int index = i;
                flows.add(pool.submit(() -> flow(agent, index, home, away, pool)));
            }
            List<String> jobIds = new ArrayList<>();
            for (Future<String> flow : flows) {
                jobIds.add(flow.get(5, java.util.concurrent.TimeUnit.MINUTES));
            }
            return jobIds;
        } finally {
            pool.shutdownNow();
        }
    }

    @SuppressWarnings("unchecked")
    private static String flow(Fleet.Agent agent, int index, BrokerJar home, BrokerJar away, ExecutorService pool) throws Exception {
        McpSyncClient here = JarClient.connect(home, agent.apiKey());
        McpSyncClient there = JarClient.connect(away, agent.apiKey());
        try {
            List<String> quoteIds = List.of(Fleet.quote(here), Fleet.quote(there));
            // Both instances at once: the agent's limit (0.15) holds one 0.10 reservation, never two.
            var racing = java.util.concurrent.CompletableFuture.supplyAsync(() -> there.callTool(new McpSchema.CallToolRequest(
                    "reserve", Map.of("quoteId", quoteIds.get(1), "idempotencyKey", "fleet-away-" + index))));
            McpSchema.CallToolResult mine = here.callTool(new McpSchema.CallToolRequest("reserve",
                    Map.of("quoteId", quoteIds.get(0), "idempotencyKey", "fleet-home-" + index)));
            McpSchema.CallToolResult theirs = racing.get(2, java.util.concurrent.TimeUnit.MINUTES);
            assertThat(mine.isError() ^ theirs.isError()).as("exactly one of two racing reservations fits the limit: "
                    + mine.content() + " / " + theirs.content()).isTrue();
            boolean homeWon = !mine.isError();
            McpSyncClient winner = homeWon ? here : there;
            String reservationId = (String) ((Map<String, Object>) (homeWon ? mine : theirs).structuredContent())
                    .get("reservationId");
            assertThat(JarClient.structured(winner, "pay", Map.of("reservationId", reservationId,
                    "idempotencyKey", "fleet-pay-" + index))).containsEntry("status", "confirmed");
            return (String) JarClient.structured(winner, "run", Map.of("reservationId", reservationId,
                    "idempotencyKey", "fleet-run-" + index,
                    "command", List.of("sh", "-c", "sleep " + JOB_SECONDS + "; echo fleet " + index))).get("jobId");
        } finally {
            here.closeGracefully();
            there.closeGracefully();
        }
    }

    private static void assertEveryJobEndedAndWasPaidOnce(Connection sql) throws SQLException {
        assertThat(count(sql, "SELECT count(*) FROM jobs WHERE state = 'COMPLETED'")).isEqualTo(AGENTS);
        assertThat(count(sql, "SELECT count(*) FROM (SELECT job_id FROM job_events WHERE kind = 'completed' "
                + "GROUP BY job_id HAVING count(*) = 1) once")).as("each job's end recorded once").isEqualTo(AGENTS);
        assertThat(count(sql, "SELECT count(*) FROM (SELECT reference_id FROM chain_transactions WHERE purpose = 'settle' "
                + "AND replaces_tx_hash IS NULL GROUP BY reference_id HAVING count(*) > 1) twice"))
                .as("no reservation settled twice").isZero();
        assertThat(count(sql, "SELECT count(*) FROM chain_transactions WHERE purpose = 'refund'")).as("nothing refunded")
                .isZero();
        String misbilled = "FROM jobs WHERE gpu_seconds < " + JOB_SECONDS + " OR gpu_seconds > " + (JOB_SECONDS + 4);
        assertThat(count(sql, "SELECT count(*) " + misbilled)).as("each billed for the seconds it ran, wherever it was "
                + "followed; some of those that were not (GPU-seconds, seconds from start to the last sighting running, to "
                + "the end, taken up after the kill): " + rows(sql, "SELECT gpu_seconds, "
                + "round(extract(epoch FROM seen_running_at - started_at), 1), round(extract(epoch FROM ended_at - started_at), 1), "
                + "EXISTS (SELECT 1 FROM job_events e WHERE e.job_id = jobs.job_id AND e.kind = 'resumed') " + misbilled
                + " LIMIT 10")).isZero();
    }

    /** The relayer's transactions that reached the chain use nonces 0 … n-1, n being the chain's count: no gap. */
    private static void assertRelayerNoncesGapless(Connection sql, String anvil, String relayer) throws Exception {
        Web3j web3 = Web3j.build(new HttpService(anvil));
        try {
            long onChain = web3.ethGetTransactionCount(relayer, DefaultBlockParameterName.LATEST).send()
                    .getTransactionCount().longValueExact();
            long distinct = count(sql, "SELECT count(DISTINCT nonce) FROM chain_transactions WHERE status IN "
                    + "('CONFIRMED', 'REVERTED') AND lower(from_address) = lower('" + relayer + "')");
            long highest = count(sql, "SELECT COALESCE(MAX(nonce), -1) FROM chain_transactions WHERE status IN "
                    + "('CONFIRMED', 'REVERTED') AND lower(from_address) = lower('" + relayer + "')");
            assertThat(onChain).as("2 transactions per job").isGreaterThanOrEqualTo(2L * AGENTS);
            assertThat(distinct).as("every nonce the chain used is a mined transaction of ours").isEqualTo(onChain);
            assertThat(highest).isEqualTo(onChain - 1);
        } finally {
            web3.shutdown();
        }
    }

    private static long count(Connection sql, String query) throws SQLException {
        try (Statement statement = sql.createStatement(); ResultSet row = statement.executeQuery(query)) {
            row.next();
            return row.getLong(1);
        }
    }

    /** The query's rows, each as its columns separated by spaces. */
    private static String rows(Connection sql, String query) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Statement statement = sql.createStatement(); ResultSet row = statement.executeQuery(query)) {
            int columns = row.getMetaData().getColumnCount();
            while (row.next()) {
                List<String> values = new ArrayList<>();
                for (int column = 1; column <= columns; column++) {
                    values.add(String.valueOf(row.getObject(column)));
                }
                rows.add(String.join(" ", values));
            }
        }
        return rows.toString();
    }

    private static void awaitCount(Connection sql, String query, long wanted, Duration within) throws Exception {
        long deadline = System.nanoTime() + within.toNanos();
        long now;
        while ((now = count(sql, query)) != wanted) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError(query + " = " + wanted + " in time (now " + now + "); jobs by state: "
                        + rows(sql, "SELECT state, count(*) FROM jobs GROUP BY state") + "; events of one: "
                        + rows(sql, "SELECT kind, detail FROM job_events WHERE job_id = (SELECT MIN(job_id) FROM jobs) "
                                + "ORDER BY event_id"));
            }
            Thread.sleep(100);
        }
    }


}
