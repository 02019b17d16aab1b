package dev.gpubroker.payments.chain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import dev.gpubroker.support.Scratch;
import org.junit.jupiter.api.Test;
import org.springframework.mock.env.MockEnvironment;
import org.web3j.crypto.Credentials;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.config.StartupRefusal;
import dev.gpubroker.wallet.RecordedWallets;
import dev.gpubroker.wallet.WalletStore;

/**
 * The rule that keeps recorded balances spendable: a data directory that records a deployment or agents starts only
 * with its own keystores, and otherwise stops naming the file and the setting, with nothing created.
 */
class ChainKeysTest {

    private static final String OPERATOR = "0x1111111111111111111111111111111111111111";

    @Test
    void aFreshDataDirectoryGetsNewKeys() throws Exception {
        WalletStore wallets = wallets(Scratch.directory("gpubroker-keys-"), null);

        ChainKeys.Keys keys = ChainKeys.forEmbedded(Optional.empty(), Path.of("deployment.json"), wallets,
                RecordedWallets.NONE, List.of());

        assertThat(wallets.addressIn("relayer")).contains(keys.relayer().getAddress());
        assertThat(wallets.addressIn("demo-seller")).contains(keys.payee());
    }

    @Test
    void aRecordedDeploymentWhoseRelayerKeystoreIsMissingStopsNamingTheFileAndTheSettingAndCreatesNothing() throws Exception {
        Path data = Scratch.directory("gpubroker-keys-");
        WalletStore wallets = wallets(data, null);
        Path record = data.resolve("chain/deployment.json");

        assertThatThrownBy(() -> ChainKeys.forEmbedded(Optional.of(deployment(OPERATOR, null)), record, wallets,
                RecordedWallets.NONE, List.of()))
                .isInstanceOf(StartupRefusal.class)
                .hasMessageContaining(data.resolve("wallets/relayer.json").toString() + " is missing")
                .hasMessageContaining(record.toString()).hasMessageContaining(OPERATOR)
                .hasMessageContaining("gpubroker.wallets.dir").hasMessageContaining("GPUBROKER_DATA_DIR")
                .hasMessageContaining("Nothing was deployed, minted or re-keyed");
        assertThat(filesIn(data.resolve("wallets"))).isEmpty();
    }

    @Test
    void anotherDataDirectorysRelayerIsRefusedForARecordedDeployment() throws Exception {
        Path data = Scratch.directory("gpubroker-keys-");
        WalletStore wallets = wallets(data, null);
        String other = wallets.create("relayer").getAddress();

        assertThatThrownBy(() -> ChainKeys.forEmbedded(Optional.of(deployment(OPERATOR, null)), Path.of("deployment.json"),
                wallets, RecordedWallets.NONE, List.of()))
                .isInstanceOf(StartupRefusal.class)
                .hasMessageContaining("holds " + other).hasMessageContaining("not " + OPERATOR);
    }

    @Test
    void aDatabaseThatRecordsAgentsButNoDeploymentIsNotGivenNewContracts() throws Exception {
        Path data = Scratch.directory("gpubroker-keys-");
        WalletStore wallets = wallets(data, null);

        assertThatThrownBy(() -> ChainKeys.forEmbedded(Optional.empty(), data.resolve("chain/deployment.json"), wallets,
                recording(List.of()), List.of()))
                .isInstanceOf(StartupRefusal.class)
                .hasMessageContaining("the database records agents")
                .hasMessageContaining(data.resolve("chain/deployment.json") + " is missing");
        assertThat(filesIn(data.resolve("wallets"))).isEmpty();
    }

    @Test
    void aCustodialAgentWhoseKeystoreIsMissingStopsTheStartAndNoKeyIsMadeForIt() throws Exception {
        Path data = Scratch.directory("gpubroker-keys-");
        WalletStore wallets = wallets(data, null);
        Credentials relayer = wallets.create("relayer");
        String payee = wallets.create("demo-seller").getAddress();
        RecordedWallets database = recording(List.of(new RecordedWallets.Custodial("agt_gone", "agent-agt-gone",
                "0x2222222222222222222222222222222222222222")));

        assertThatThrownBy(() -> ChainKeys.forEmbedded(Optional.of(deployment(relayer.getAddress(), payee)),
                Path.of("deployment.json"), wallets, database, List.of()))
                .isInstanceOf(StartupRefusal.class)
                .hasMessageContaining("1 custodial agent wallet(s)")
                .hasMessageContaining(data.resolve("wallets/agent-agt-gone.json") + " (missing) of agent agt_gone")
                .hasMessageContaining("gpubroker.wallets.dir");
        assertThat(wallets.exists("agent-agt-gone")).isFalse();
    }

    @Test
    void keystoresThatTheConfiguredPasswordDoesNotOpenStopTheStartNamingThePasswordSetting() throws Exception {
        Path data = Scratch.directory("gpubroker-keys-");
        WalletStore original = wallets(data, "the-password");
        String relayer = original.create("relayer").getAddress();
        String payee = original.create("demo-seller").getAddress();
        WalletStore withAnotherPassword = wallets(data, "another-password");

        assertThatThrownBy(() -> ChainKeys.forEmbedded(Optional.of(deployment(relayer, payee)), Path.of("deployment.json"),
                withAnotherPassword, RecordedWallets.NONE, List.of()))
                .isInstanceOf(StartupRefusal.class)
                .hasMessageContaining("does not open with the wallet password")
                .hasMessageContaining("GPUBROKER_WALLET_PASSWORD");
    }

    @Test
    void keystoresLeftInTheOldDefaultFolderAreCopiedOverWhenTheyOperateTheRecordedDeployment() throws Exception {
        Path project = Scratch.directory("gpubroker-project-");
        Path data = project.resolve("data");
        WalletStore legacy = wallets(project.resolve("old"), null);
        String relayer = legacy.create("relayer").getAddress();
        String payee = legacy.create("demo-seller").getAddress();
        Path oldWallets = legacy.directory();
        Map<String, String> before = contents(oldWallets);
        WalletStore wallets = wallets(data, null);

        ChainKeys.Keys keys = ChainKeys.forEmbedded(Optional.of(deployment(relayer, payee)), Path.of("deployment.json"),
                wallets, RecordedWallets.NONE, List.of(oldWallets));

        assertThat(keys.relayer().getAddress()).isEqualTo(relayer);
        assertThat(keys.payee()).isEqualTo(payee);
        assertThat(contents(data.resolve("wallets"))).isEqualTo(before).containsKeys("relayer.json", ".password");
        assertThat(contents(oldWallets)).as("the originals are left as they were").isEqualTo(before);
    }

    @Test
    void keystoresOfAnotherDeploymentInTheOldDefaultFolderAreNotCopiedButNamedInTheMessage() throws Exception {
        Path project = Scratch.directory("gpubroker-project-");
        WalletStore legacy = wallets(project.resolve("old"), null);
        String otherRelayer = legacy.create("relayer").getAddress();
        WalletStore wallets = wallets(project.resolve("data"), null);

        assertThatThrownBy(() -> ChainKeys.forEmbedded(Optional.of(deployment(OPERATOR, null)), Path.of("deployment.json"),
                wallets, RecordedWallets.NONE, List.of(legacy.directory())))
                .isInstanceOf(StartupRefusal.class)
                .hasMessageContaining(legacy.directory() + " (its relayer is " + otherRelayer.toLowerCase() + ")");
        assertThat(filesIn(project.resolve("data/wallets"))).isEmpty();
    }

    @Test
    void anRpcChainWhoseAgentsAreRecordedNeedsItsExistingRelayer() throws Exception {
        Path data = Scratch.directory("gpubroker-keys-");
        WalletStore wallets = wallets(data, null);

        assertThatThrownBy(() -> ChainKeys.forRpc(wallets, recording(List.of())))
                .isInstanceOf(StartupRefusal.class)
                .hasMessageContaining(data.resolve("wallets/relayer.json") + " is missing");
        assertThat(filesIn(data.resolve("wallets"))).isEmpty();
    }

    private static DeploymentRecord deployment(String operator, String payee) {
        return new DeploymentRecord("0x3333333333333333333333333333333333333333",
                "0x4444444444444444444444444444444444444444", operator, payee);
    }

    private static RecordedWallets recording(List<RecordedWallets.Custodial> custodial) {
        return new RecordedWallets() {
            @Override
            public boolean anyAgent() {
                return true;
            }

            @Override
            public List<Custodial> custodial() {
                return custodial;
            }
        };
    }

    private static WalletStore wallets(Path dataDir, String password) throws Exception {
        MockEnvironment environment = new MockEnvironment();
        if (password != null) {
            environment.setProperty(WalletStore.PASSWORD_VARIABLE, password);
        }
        return new WalletStore(properties(dataDir), environment);
    }

    private static BrokerProperties properties(Path dataDir) {
        return new BrokerProperties(dataDir, true, null, null, null, null, null,
                new BrokerProperties.Chain("embedded", "", "", 0, "", "", "", "USD Coin", "2", 1, Duration.ofSeconds(5),
                        Duration.ofSeconds(30), 15, Duration.ofHours(1), Duration.ofHours(24), "0", Duration.ZERO, "", ""),
                new BrokerProperties.Wallets(null, ""), null, null, null);
    }

    private static List<Path> filesIn(Path dir) throws Exception {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.toList();
        }
    }

    private static Map<String, String> contents(Path dir) throws Exception {
        try (Stream<Path> files = Files.list(dir)) {
            return files.collect(Collectors.toMap(path -> path.getFileName().toString(), path -> {
                try {
                    return Files.readString(path);
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }));
        }
    }
}
