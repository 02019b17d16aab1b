package dev.gpubroker.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
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
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.http.HttpService;

import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema;

import dev.gpubroker.payments.chain.DevChainAccount;
import dev.gpubroker.payments.chain.TokenContract;
import dev.gpubroker.support.AdminClient;
import dev.gpubroker.support.BrokerJar;
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
 * <p>Instance A runs the embedded chain (the one chain node); instance B reaches it over JSON-RPC with the same relayer
 * keystore, and both keep the simulated marketplace's job records in one directory, so either can follow a job the
 * other launched.
 */
@ExtendWith(PostgresDatabase.Availability.class)
class TwoInstancesIT {

    private static final int AGENTS = 100;
    // Longer than the flows take to start every job (about 20 s on two idle cores), so that the kill lands mid-run.
    private static final int JOB_SECONDS = 40;
    private static final Path CATALOG = Path.of("src/test/resources/catalogs/instances.yml").toAbsolutePath();
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Pattern ANVIL_URL = Pattern.compile("Embedded chain: anvil on (http://127\\.0\\.0\\.1:\\d+)");
    private static final Pattern ENGINE_ID = Pattern.compile("Job engine running as (\\S+)");

    @Test
    void aHundredAgentsOverTwoInstancesOneKilledMidRunEveryJobEndsAndIsPaidOnce() throws Exception {
        TestPostgres postgres = TestPostgres.server();
        String url = postgres.newDatabaseUrl();
        String database = url.substring(url.lastIndexOf('/') + 1);
        Path records = Files.createTempDirectory("gpubroker-job-records");
        Path dataA = BrokerJar.newDataDir();
        Path dataB = BrokerJar.newDataDir();
        List<String> shared = List.of("--gpubroker.market.demo-catalog=file:" + CATALOG, "--gpubroker.database.url=" + url,
                "--gpubroker.market.job-records-dir=" + records);

        try (BrokerJar a = BrokerJar.startHttp(dataA, shared.toArray(String[]::new));
                Connection sql = postgres.connect(database)) {
            a.demoAgentKey(); // the first start is over: chain deployed, demo agent made
            String anvil = find(ANVIL_URL, a.log());
            JsonNode deployment = JSON.readTree(dataA.resolve("chain/deployment.json").toFile());
            List<String> argsB = new ArrayList<>(shared);
            argsB.addAll(List.of("--gpubroker.chain.mode=rpc", "--gpubroker.chain.rpc-url=" + anvil,
                    "--gpubroker.chain.chain-id=31337",
                    "--gpubroker.chain.usdc-address=" + deployment.get("usdc").asString(),
                    "--gpubroker.chain.escrow-address=" + deployment.get("escrow").asString(),
                    "--gpubroker.chain.payee-address=" + deployment.get("payee").asString(),
                    "--gpubroker.wallets.dir=" + dataA.resolve("wallets"),
                    // Each instance sandboxes its jobs as users of its own range: one host, no shared uid.
                    "--gpubroker.jobs.sandbox-first-uid=2000100000"));
            BrokerJar b = BrokerJar.startHttp(dataB, argsB.toArray(String[]::new));
            try {
                String engineB = find(ENGINE_ID, awaitLog(b, ENGINE_ID));
                AdminClient admin = new AdminClient(URI.create("http://127.0.0.1:" + a.port()), dataA);
                List<Agent> agents = createAndFund(admin, anvil, deployment.get("usdc").asString());

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
                assertRelayerNoncesGapless(sql, anvil, deployment.get("operator").asString());
                assertThat(count(sql, "SELECT count(*) FROM agent_policies p WHERE (SELECT COALESCE(SUM(amount_micros), 0) "
                        + "FROM budget_holds h WHERE h.agent_id = p.agent_id AND h.state IN ('HELD', 'SPENT')) > p.total_limit_micros"))
                        .as("no agent's holds exceed its total limit").isZero();
                JsonNode report = JSON.readTree(admin.get("/admin/v1/reconciliation").body());
                assertThat(report.get("mismatches").isEmpty()).as("ledger and chain agree: " + report).isTrue();
                assertThat(report.get("escrowEvents").asInt()).as("a deposit and a settlement per job: " + report)
                        .isEqualTo(2 * AGENTS);

                System.out.printf("TwoInstancesIT: %d agents' flows (quote, two racing reserves, pay, run) over two "
                                + "instances in %.1f s (%.2f flows/s); B killed with %d of %d running jobs; A held every one "
                                + "of them %.1f s after the kill; all %d settled %.1f s after the kill%n", AGENTS, flowSeconds,
                        AGENTS / flowSeconds, heldByB, running, takeoverSeconds, AGENTS, settledSeconds);
                assertThat(takeoverSeconds).as("every job of the dead instance taken up within 10 s").isLessThanOrEqualTo(10.0);
            } finally {
                b.close();
            }
        }
    }

    private record Agent(String apiKey, String walletAddress) {
    }

    /** A hundred custodial agents, each with 1.00 test USDC and a total limit that lets one reservation through. */
    private static List<Agent> createAndFund(AdminClient admin, String anvil, String usdc) throws Exception {
        List<Agent> agents = new ArrayList<>();
        try (DevChainAccount minter = new DevChainAccount(anvil, 31337)) {
            for (int i = 0; i < AGENTS; i++) {
                var created = admin.post("/admin/v1/agents", "{\"name\": \"fleet-" + i + "\"}");
                assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
                JsonNode agent = JSON.readTree(created.body());
                var policy = admin.put("/admin/v1/agents/" + agent.get("agentId").asString() + "/policy",
                        "{\"maxPerReservation\": \"1.00\", \"dailyLimit\": null, \"totalLimit\": \"0.15\", "
                                + "\"maxPricePerGpuHour\": null, \"allowedProviders\": null, \"allowedGpus\": null, "
                                + "\"approvalThreshold\": null, \"frozen\": false}");
                assertThat(policy.statusCode()).as(policy.body()).isEqualTo(200);
                minter.call(usdc, TokenContract.mint(agent.get("walletAddress").asString(), BigInteger.valueOf(1_000_000)));
                agents.add(new Agent(agent.get("apiKey").asString(), agent.get("walletAddress").asString()));
            }
        }
        return agents;
    }

    /**
     * Each agent quotes at its instance, reserves there and at the other instance at the same moment (its limit lets
     * only one through), pays and runs where its reservation was made. Answers the job ids.
     */
    private static List<String> runFlows(List<Agent> agents, BrokerJar a, BrokerJar b) throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(20);
        try {
            List<Future<String>> flows = new ArrayList<>();
            for (int i = 0; i < agents.size(); i++) {
                Agent agent = agents.get(i);
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
    private static String flow(Agent agent, int index, BrokerJar home, BrokerJar away, ExecutorService pool) throws Exception {
        McpSyncClient here = JarClient.connect(home, agent.apiKey());
        McpSyncClient there = JarClient.connect(away, agent.apiKey());
        try {
            List<String> quoteIds = new ArrayList<>();
            for (McpSyncClient client : List.of(here, there)) {
                quoteIds.add((String) ((List<Map<String, Object>>) JarClient.structured(client, "quote", Map.of("gpu", "H100",
                        "durationMinutes", 5, "providers", List.of("demo-many"))).get("quotes")).getFirst().get("quoteId"));
            }
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
        assertThat(count(sql, "SELECT count(*) FROM jobs WHERE gpu_seconds < " + JOB_SECONDS + " OR gpu_seconds > "
                + (JOB_SECONDS + 4))).as("each billed for the seconds it ran, wherever it was followed").isZero();
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

    private static List<String> rows(Connection sql, String query) throws SQLException {
        List<String> rows = new ArrayList<>();
        try (Statement statement = sql.createStatement(); ResultSet row = statement.executeQuery(query)) {
            while (row.next()) {
                rows.add(row.getString(1) + "=" + row.getString(2));
            }
        }
        return rows;
    }

    private static String awaitLog(BrokerJar server, Pattern line) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        String log;
        while (!line.matcher(log = server.log()).find()) {
            assertThat(System.nanoTime()).as("log line " + line).isLessThan(deadline);
            Thread.sleep(100);
        }
        return log;
    }

    private static String find(Pattern pattern, String log) {
        Matcher matcher = pattern.matcher(log);
        assertThat(matcher.find()).as(pattern + " in the log").isTrue();
        return matcher.group(1);
    }
}
