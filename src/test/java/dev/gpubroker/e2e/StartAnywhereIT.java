package dev.gpubroker.e2e;

import static dev.gpubroker.support.JarClient.awaitFunded;
import static dev.gpubroker.support.JarClient.structured;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import dev.gpubroker.support.Scratch;
import org.junit.jupiter.api.Test;

import io.modelcontextprotocol.client.McpSyncClient;

import dev.gpubroker.money.Usdc;
import dev.gpubroker.support.AdminClient;
import dev.gpubroker.support.BrokerJar;
import dev.gpubroker.support.JarClient;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The jar started the way Claude Desktop starts it: from a working directory that has nothing of the project (no
 * node_modules, no wallets), with only GPUBROKER_DATA_DIR set. Everything it keeps lives under the data directory, so a
 * second start, from yet another directory, finds the same keys, contracts, balances and escrows; and a data directory
 * whose keystores are gone is refused, naming the missing file and the setting, with nothing deployed, minted or
 * re-keyed.
 */
class StartAnywhereIT {

    private static final JsonMapper JSON = JsonMapper.builder().build();

    @Test
    void startedTwiceFromUnrelatedDirectoriesTheServerKeepsBalancesEscrowsContractsAndKeystores() throws Exception {
        Path dataDir = BrokerJar.newDataDir();
        Path firstDirectory = Scratch.directory("gpubroker-elsewhere-");
        Path secondDirectory = Scratch.directory("gpubroker-elsewhere-");
        String key;
        Map<String, Object> accountBefore;
        Map<String, String> keystoresBefore;
        String deploymentBefore;
        try (BrokerJar first = BrokerJar.startHttpIn(firstDirectory, dataDir, Map.of())) {
            key = first.demoAgentKey();
            McpSyncClient client = JarClient.connect(first, key);
            awaitFunded(client);
            String amount = paidReservation(client);
            accountBefore = withoutReservations(structured(client, "account", Map.of()));
            assertThat(accountBefore).containsEntry("usdcBalance", Usdc.parse("1000.00").minus(Usdc.parse(amount))
                    .toDecimalString()).containsEntry("escrowed", amount);
            keystoresBefore = digests(dataDir.resolve("wallets"));
            deploymentBefore = Files.readString(dataDir.resolve("chain/deployment.json"));
            client.closeGracefully();
            assertThat(first.stop(Duration.ofSeconds(30))).isTrue();
        }
        assertThat(keystoresBefore).containsKeys("relayer.json", "demo-seller.json", ".password");
        assertThat(Files.isExecutable(dataDir.resolve("bin/anvil"))).as("anvil came out of the jar").isTrue();

        try (BrokerJar second = BrokerJar.startHttpIn(secondDirectory, dataDir, Map.of())) {
            McpSyncClient client = JarClient.connect(second, key);

            assertThat(withoutReservations(structured(client, "account", Map.of()))).isEqualTo(accountBefore);
            JsonNode reconciliation = JSON.readTree(new AdminClient(URI.create("http://127.0.0.1:" + second.port()),
                    dataDir).get("/admin/v1/reconciliation").body());
            assertThat(reconciliation.get("escrowEvents").asInt()).as("the deposit is on the chain: " + reconciliation)
                    .isEqualTo(1);
            assertThat(reconciliation.get("mismatches").isEmpty()).as("ledger and chain agree: " + reconciliation).isTrue();
            assertThat(second.log()).doesNotContain("Deployed test USDC").doesNotContain("Minted")
                    .doesNotContain("created:");
            client.closeGracefully();
        }
        assertThat(Files.readString(dataDir.resolve("chain/deployment.json"))).isEqualTo(deploymentBefore);
        assertThat(digests(dataDir.resolve("wallets"))).isEqualTo(keystoresBefore);
        assertThat(firstDirectory).as("nothing is written to the working directory").isEmptyDirectory();
        assertThat(secondDirectory).as("nothing is written to the working directory").isEmptyDirectory();
    }

    @Test
    void aDataDirectoryWhoseKeystoresAreGoneIsRefusedNamingTheFileAndTheSettingAndNothingChanges() throws Exception {
        Path dataDir = BrokerJar.newDataDir();
        Path workingDirectory = Scratch.directory("gpubroker-elsewhere-");
        String key;
        Map<String, Object> accountBefore;
        try (BrokerJar first = BrokerJar.startHttpIn(workingDirectory, dataDir, Map.of())) {
            key = first.demoAgentKey();
            McpSyncClient client = JarClient.connect(first, key);
            awaitFunded(client);
            accountBefore = structured(client, "account", Map.of());
            client.closeGracefully();
            assertThat(first.stop(Duration.ofSeconds(30))).isTrue();
        }
        Path keptAside = Scratch.directory("gpubroker-kept-aside-").resolve("wallets");
        Files.move(dataDir.resolve("wallets"), keptAside);
        Map<String, String> keptKeystores = digests(keptAside);
        Map<String, String> chainBefore = digests(dataDir.resolve("chain"), "anvil.log", "anvil.pid");

        BrokerJar.Result refused = BrokerJar.run(workingDirectory, List.of(BrokerJar.java(), "-jar",
                BrokerJar.jar().toString(), "--server.port=0"), environment(dataDir), Duration.ofSeconds(120));

        assertThat(refused.exitCode()).as(refused.output()).isNotZero();
        assertThat(refused.output()).contains(dataDir.resolve("wallets/relayer.json") + " is missing")
                .contains(dataDir.resolve("chain/deployment.json").toString())
                .contains("gpubroker.wallets.dir").contains("GPUBROKER_DATA_DIR")
                .contains("Nothing was deployed, minted or re-keyed")
                .doesNotContain("\tat ").doesNotContain("Deployed test USDC").doesNotContain("created:");
        assertThat(dataDir.resolve("wallets")).as("no keystore, password or folder was made").doesNotExist();
        assertThat(digests(dataDir.resolve("chain"), "anvil.log", "anvil.pid")).isEqualTo(chainBefore);
        assertThat(digests(keptAside)).isEqualTo(keptKeystores);
        assertThat(workingDirectory).isEmptyDirectory();

        // Put back where they belong, the keystores find everything as it was.
        Files.move(keptAside, dataDir.resolve("wallets"));
        try (BrokerJar again = BrokerJar.startHttpIn(workingDirectory, dataDir, Map.of())) {
            McpSyncClient client = JarClient.connect(again, key);
            assertThat(structured(client, "account", Map.of())).isEqualTo(accountBefore);
            client.closeGracefully();
        }
    }

    private static Map<String, String> environment(Path dataDir) {
        Map<String, String> environment = new java.util.HashMap<>(System.getenv());
        BrokerJar.onlyGpuBrokerSettings(environment, dataDir, Map.of());
        return environment;
    }

    @SuppressWarnings("unchecked")
    private static String paidReservation(McpSyncClient client) {
        String quoteId = (String) ((List<Map<String, Object>>) structured(client, "quote", Map.of("gpu", "any",
                "durationMinutes", 30, "providers", List.of("demo-nimbus"))).get("quotes")).getFirst().get("quoteId");
        Map<String, Object> reservation = structured(client, "reserve", Map.of("quoteId", quoteId,
                "idempotencyKey", "anywhere-reserve"));
        assertThat(structured(client, "pay", Map.of("reservationId", reservation.get("reservationId"),
                "idempotencyKey", "anywhere-pay"))).containsEntry("status", "confirmed");
        return (String) reservation.get("amount");
    }

    /** The account less its reservations' hold timers, which say nothing of money. */
    private static Map<String, Object> withoutReservations(Map<String, Object> account) {
        Map<String, Object> money = new TreeMap<>(account);
        money.remove("reservations");
        money.remove("budget");
        return money;
    }

    private static Map<String, String> digests(Path directory, String... except) throws IOException {
        Map<String, String> digests = new TreeMap<>();
        List<String> skipped = List.of(except);
        try (Stream<Path> files = Files.list(directory)) {
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                if (!skipped.contains(file.getFileName().toString())) {
                    digests.put(file.getFileName().toString(), sha256(file));
                }
            }
        }
        return digests;
    }

    private static String sha256(Path file) throws IOException {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(file)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
