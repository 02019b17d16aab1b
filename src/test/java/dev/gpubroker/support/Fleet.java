package dev.gpubroker.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import io.modelcontextprotocol.client.McpSyncClient;

import dev.gpubroker.payments.chain.DevChainAccount;
import dev.gpubroker.payments.chain.TokenContract;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Several broker jars on one PostgreSQL database and one chain, and a fleet of agents buying from them: what the
 * multi-instance test and benchmark share. The first instance runs the embedded chain (the one chain node); every
 * other reaches it over JSON-RPC with the same relayer keystore; all keep the simulated marketplace's job records in
 * one directory, so any instance can follow a job another launched.
 */
public final class Fleet implements AutoCloseable {

    public static final Path CATALOG = Path.of("src/test/resources/catalogs/instances.yml").toAbsolutePath();
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Pattern ANVIL_URL = Pattern.compile("Embedded chain: anvil on (http://127\\.0\\.0\\.1:\\d+)");
    private static final Pattern ENGINE_ID = Pattern.compile("Job engine running as (\\S+)");

    private final String databaseUrl;
    private final List<String> shared;
    private final List<BrokerJar> instances = new ArrayList<>();
    private final Path firstDataDir;
    private final String anvil;
    private final JsonNode deployment;

    private Fleet(String databaseUrl, List<String> shared, BrokerJar first) throws Exception {
        this.databaseUrl = databaseUrl;
        this.shared = shared;
        this.firstDataDir = first.dataDir();
        instances.add(first);
        first.demoAgentKey(); // the first start is over: chain deployed, demo agent made
        this.anvil = find(ANVIL_URL, first.log());
        this.deployment = JSON.readTree(firstDataDir.resolve("chain/deployment.json").toFile());
    }

    /** The first instance, on a new database of this PostgreSQL server, with the embedded chain. */
    public static Fleet start(TestPostgres postgres, String... extraArgs) throws Exception {
        String url = postgres.newDatabaseUrl();
        Path records = Files.createTempDirectory("gpubroker-job-records");
        List<String> shared = new ArrayList<>(List.of("--gpubroker.market.demo-catalog=file:" + CATALOG,
                "--gpubroker.database.url=" + url, "--gpubroker.market.job-records-dir=" + records));
        shared.addAll(List.of(extraArgs));
        return new Fleet(url, shared, BrokerJar.startHttp(BrokerJar.newDataDir(), shared.toArray(String[]::new)));
    }

    /** Another instance on the same database and chain. */
    public BrokerJar startAnother() throws Exception {
        List<String> args = new ArrayList<>(shared);
        args.addAll(List.of("--gpubroker.chain.mode=rpc", "--gpubroker.chain.rpc-url=" + anvil,
                "--gpubroker.chain.chain-id=31337",
                "--gpubroker.chain.usdc-address=" + usdc(),
                "--gpubroker.chain.escrow-address=" + deployment.get("escrow").asString(),
                "--gpubroker.chain.payee-address=" + deployment.get("payee").asString(),
                "--gpubroker.wallets.dir=" + firstDataDir.resolve("wallets"),
                // Each instance sandboxes its jobs as users of its own range: one host, no uid shared.
                "--gpubroker.jobs.sandbox-first-uid=" + (2_000_000_000L + 100_000L * instances.size())));
        BrokerJar another = BrokerJar.startHttp(BrokerJar.newDataDir(), args.toArray(String[]::new));
        instances.add(another);
        return another;
    }

    public BrokerJar first() {
        return instances.getFirst();
    }

    public String databaseName() {
        return databaseUrl.substring(databaseUrl.lastIndexOf('/') + 1);
    }

    public String anvilUrl() {
        return anvil;
    }

    public String usdc() {
        return deployment.get("usdc").asString();
    }

    public String relayer() {
        return deployment.get("operator").asString();
    }

    public AdminClient admin() throws Exception {
        return new AdminClient(URI.create("http://127.0.0.1:" + first().port()), firstDataDir);
    }

    /** The id an instance's job engine writes into the leases it takes. */
    public static String engineId(BrokerJar instance) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        String log;
        while (!ENGINE_ID.matcher(log = instance.log()).find()) {
            assertThat(System.nanoTime()).as("the job engine of " + instance.mcpUrl() + " started").isLessThan(deadline);
            Thread.sleep(100);
        }
        return find(ENGINE_ID, log);
    }

    public record Agent(String agentId, String apiKey, String walletAddress) {
    }

    /** New custodial agents, each with {@code funding} test USDC and this total limit (null: none). */
    public List<Agent> agents(String prefix, int count, BigInteger fundingMicros, String totalLimit) throws Exception {
        AdminClient admin = admin();
        List<Agent> agents = new ArrayList<>();
        try (DevChainAccount minter = new DevChainAccount(anvil, 31337)) {
            for (int i = 0; i < count; i++) {
                var created = admin.post("/admin/v1/agents", "{\"name\": \"" + prefix + "-" + i + "\"}");
                assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
                JsonNode agent = JSON.readTree(created.body());
                String agentId = agent.get("agentId").asString();
                var policy = admin.put("/admin/v1/agents/" + agentId + "/policy",
                        "{\"maxPerReservation\": \"1.00\", \"dailyLimit\": null, \"totalLimit\": "
                                + (totalLimit == null ? "null" : "\"" + totalLimit + "\"")
                                + ", \"maxPricePerGpuHour\": null, \"allowedProviders\": null, \"allowedGpus\": null, "
                                + "\"approvalThreshold\": null, \"frozen\": false}");
                assertThat(policy.statusCode()).as(policy.body()).isEqualTo(200);
                minter.call(usdc(), TokenContract.mint(agent.get("walletAddress").asString(), fundingMicros));
                agents.add(new Agent(agentId, agent.get("apiKey").asString(), agent.get("walletAddress").asString()));
            }
        }
        return agents;
    }

    /** A quote for one H100 for five minutes at demo-many (0.10 USDC). */
    @SuppressWarnings("unchecked")
    public static String quote(McpSyncClient client) {
        return (String) ((List<Map<String, Object>>) JarClient.structured(client, "quote", Map.of("gpu", "H100",
                "durationMinutes", 5, "providers", List.of("demo-many"))).get("quotes")).getFirst().get("quoteId");
    }

    private static String find(Pattern pattern, String log) {
        Matcher matcher = pattern.matcher(log);
        assertThat(matcher.find()).as(pattern + " in the log").isTrue();
        return matcher.group(1);
    }

    @Override
    public void close() throws InterruptedException {
        for (BrokerJar instance : instances.reversed()) {
            instance.close();
        }
    }
}
