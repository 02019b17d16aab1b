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
 * Several broker jars on one PostgreSQL database and one chain node, and a fleet of agents buying from them: what the
 * multi-instance test and benchmark share, in the topology of {@code docker/compose.yml}. The node is an anvil of its
 * own; every instance runs with {@code gpubroker.chain.mode=dev} on it, sharing one deployment record and one
 * directory of keystores (the first instance deploys and makes the keys), and keeps the simulated marketplace's job
 * records in one shared directory, so any instance can follow a job another launched.
 */
public final class Fleet implements AutoCloseable {

    public static final Path CATALOG = Path.of("src/test/resources/catalogs/instances.yml").toAbsolutePath();
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Pattern ENGINE_ID = Pattern.compile("Job engine running as (\\S+)");

    private final AnvilNode chain;
    private final String databaseUrl;
    private final Map<String, String> shared;
    private final List<String> args;
    private final List<BrokerJar> instances = new ArrayList<>();
    private final Path firstDataDir;
    private final JsonNode deployment;

    private Fleet(AnvilNode chain, String databaseUrl, Map<String, String> shared, List<String> args,
            Path deploymentFile) throws Exception {
        this.chain = chain;
        this.databaseUrl = databaseUrl;
        this.shared = shared;
        this.args = args;
        BrokerJar first = startInstance();
        this.firstDataDir = first.dataDir();
        first.demoAgentKey(); // the first start is over: contracts deployed, keys made, demo agent funded
        this.deployment = JSON.readTree(deploymentFile.toFile());
    }

    /** A chain node, a new database of this PostgreSQL server, and the first instance on them. */
    public static Fleet start(TestPostgres postgres, String... extraArgs) throws Exception {
        return onDatabase(postgres.newDatabaseUrl(), extraArgs);
    }

    /**
     * One instance on its embedded H2 database with a chain node of its own, for tests that need the node's RPC
     * (to mint test USDC for new agents) but not several instances.
     */
    public static Fleet startOnEmbeddedDatabase(String... extraArgs) throws Exception {
        return onDatabase(null, extraArgs);
    }

    private static Fleet onDatabase(String databaseUrl, String... extraArgs) throws Exception {
        Path sharedDir = Scratch.directory("gpubroker-shared");
        Path deploymentFile = sharedDir.resolve("chain/deployment.json");
        AnvilNode chain = AnvilNode.start();
        // Named as docker/compose.yml names them, so that its settings are the ones this topology is tested with.
        Map<String, String> shared = new java.util.HashMap<>(Map.of("GPUBROKER_CHAIN_MODE", "dev",
                "GPUBROKER_CHAIN_RPCURL", chain.rpcUrl(),
                "GPUBROKER_CHAIN_DEPLOYMENTFILE", deploymentFile.toString(),
                "GPUBROKER_WALLETS_DIR", sharedDir.resolve("wallets").toString(),
                "GPUBROKER_WALLET_PASSWORD", "fleet-" + System.nanoTime(),
                "GPUBROKER_MARKET_JOBRECORDSDIR", sharedDir.resolve("jobs").toString()));
        if (databaseUrl != null) {
            shared.put("GPUBROKER_DATABASE_URL", databaseUrl);
        }
        List<String> args = new ArrayList<>(List.of("--gpubroker.market.demo-catalog=file:" + CATALOG));
        args.addAll(List.of(extraArgs));
        try {
            return new Fleet(chain, databaseUrl, Map.copyOf(shared), args, deploymentFile);
        } catch (Exception | AssertionError e) {
            chain.close();
            throw e;
        }
    }

    /** Another instance on the same database and chain. */
    public BrokerJar startAnother() throws Exception {
        return startInstance();
    }

    private BrokerJar startInstance() throws Exception {
        Map<String, String> environment = new java.util.HashMap<>(shared);
        // Each instance sandboxes its jobs as users of its own range: one host, no uid shared.
        environment.put("GPUBROKER_JOBS_SANDBOXFIRSTUID", Long.toString(2_000_000_000L + 100_000L * instances.size()));
        BrokerJar instance = BrokerJar.startHttp(BrokerJar.newDataDir(), environment, args.toArray(String[]::new));
        instances.add(instance);
        return instance;
    }

    public BrokerJar first() {
        return instances.getFirst();
    }

    public String databaseName() {
        return databaseUrl.substring(databaseUrl.lastIndexOf('/') + 1);
    }

    public String anvilUrl() {
        return chain.rpcUrl();
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
        try (DevChainAccount minter = new DevChainAccount(chain.rpcUrl(), AnvilNode.CHAIN_ID)) {
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

    /** Test USDC for a wallet, minted on the chain node. */
    public void mint(String walletAddress, BigInteger micros) throws Exception {
        try (DevChainAccount minter = new DevChainAccount(chain.rpcUrl(), AnvilNode.CHAIN_ID)) {
            minter.call(usdc(), TokenContract.mint(walletAddress, micros));
        }
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
        chain.close();
    }
}
