package dev.gpubroker.payments.chain;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import dev.gpubroker.support.Scratch;
import org.junit.jupiter.api.Test;
import org.springframework.mock.env.MockEnvironment;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.support.AnvilNode;
import dev.gpubroker.wallet.RecordedWallets;
import dev.gpubroker.wallet.WalletStore;

/** A chain that is not the configured one stops the server at start, with a message that says what is wrong. */
class PaymentChainStartupTest {

    @Test
    void aNodeWithAnotherChainIdIsRefusedAtStart() throws Exception {
        try (AnvilNode anvil = AnvilNode.start()) {
            BrokerProperties properties = properties(new BrokerProperties.Chain("rpc", "base", anvil.rpcUrl(), 0, "",
                    "0x1111111111111111111111111111111111111111", "0x2222222222222222222222222222222222222222",
                    "USD Coin", "2", 1, Duration.ofSeconds(5), Duration.ofSeconds(30), 15, Duration.ofHours(1),
                    Duration.ofHours(24), "0", Duration.ZERO, "", ""));

            assertThatThrownBy(() -> new PaymentChain(properties, wallets(properties), RecordedWallets.NONE))
                    .hasMessageContaining("has chain id 31337, expected 8453");
        }
    }

    @Test
    void missingContractCodeAtTheConfiguredAddressesIsRefusedAtStart() throws Exception {
        try (AnvilNode anvil = AnvilNode.start()) {
            BrokerProperties properties = properties(new BrokerProperties.Chain("rpc", "", anvil.rpcUrl(), 31337,
                    "0x3333333333333333333333333333333333333333", "0x1111111111111111111111111111111111111111",
                    "0x2222222222222222222222222222222222222222", "USD Coin", "2", 1, Duration.ofSeconds(5),
                    Duration.ofSeconds(30), 15, Duration.ofHours(1), Duration.ofHours(24), "0", Duration.ZERO, "", ""));

            assertThatThrownBy(() -> new PaymentChain(properties, wallets(properties), RecordedWallets.NONE))
                    .hasMessageContaining("no contract code at the");
        }
    }

    @Test
    void rpcModeNamesEverySettingItLacks() throws Exception {
        BrokerProperties properties = properties(new BrokerProperties.Chain("rpc", "", "", 0, "", "", "", "USD Coin", "2",
                1, Duration.ofSeconds(5), Duration.ofSeconds(30), 15, Duration.ofHours(1), Duration.ofHours(24), "0", Duration.ZERO, "", ""));

        assertThatThrownBy(() -> new PaymentChain(properties, wallets(properties), RecordedWallets.NONE))
                .hasMessageContaining("gpubroker.chain.rpc-url").hasMessageContaining("gpubroker.chain.escrow-address")
                .hasMessageContaining("gpubroker.chain.payee-address");
    }

    @Test
    void devModeNeedsTheNodeItDeploysOn() throws Exception {
        BrokerProperties properties = properties(new BrokerProperties.Chain("dev", "", "", 0, "", "", "", "USD Coin", "2",
                1, Duration.ofSeconds(5), Duration.ofSeconds(30), 15, Duration.ofHours(1), Duration.ofHours(24), "0",
                Duration.ZERO, "", ""));

        assertThatThrownBy(() -> new PaymentChain(properties, wallets(properties), RecordedWallets.NONE))
                .isInstanceOf(dev.gpubroker.config.StartupRefusal.class)
                .hasMessageContaining("gpubroker.chain.mode=dev needs gpubroker.chain.rpc-url");
    }

    @Test
    void aDevelopmentNodeStartedAfreshUnderARecordedDeploymentIsRefusedAndNotDeployedAgain() throws Exception {
        try (AnvilNode anvil = AnvilNode.start()) {
            Path shared = Scratch.directory("gpubroker-shared");
            BrokerProperties properties = properties(new BrokerProperties.Chain("dev", "", anvil.rpcUrl(), 0, "", "", "",
                    "USD Coin", "2", 1, Duration.ofSeconds(5), Duration.ofSeconds(30), 15, Duration.ofHours(1),
                    Duration.ofHours(24), "0", Duration.ZERO, "", shared.resolve("deployment.json").toString()));
            WalletStore wallets = wallets(properties);
            new DeploymentRecord("0x5fbdb2315678afecb367f032d93f642f64180aa3", "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512",
                    wallets.create("relayer").getAddress(), wallets.create("demo-seller").getAddress())
                    .write(shared.resolve("deployment.json"));

            assertThatThrownBy(() -> new PaymentChain(properties, wallets, RecordedWallets.NONE))
                    .isInstanceOf(dev.gpubroker.config.StartupRefusal.class)
                    .hasMessageContaining("are not on the development node at " + anvil.rpcUrl())
                    .hasMessageContaining("Nothing was deployed, minted or re-keyed");
            assertThat(anvil.web3j().ethGetCode("0x5fbdb2315678afecb367f032d93f642f64180aa3",
                    org.web3j.protocol.core.DefaultBlockParameterName.LATEST).send().getCode()).isEqualTo("0x");
        }
    }

    @Test
    void aRecordedDeploymentWhoseContractsAreGoneFromTheChainIsRefusedAndNotDeployedAgain() throws Exception {
        BrokerProperties properties = properties(new BrokerProperties.Chain("embedded", "", "", 0, "", "", "", "USD Coin",
                "2", 1, Duration.ofSeconds(5), Duration.ofSeconds(30), 15, Duration.ofHours(1), Duration.ofHours(24), "0",
                Duration.ZERO, "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil", ""));
        WalletStore wallets = wallets(properties);
        Path record = properties.dataDir().resolve("chain/deployment.json");
        new DeploymentRecord("0x5fbdb2315678afecb367f032d93f642f64180aa3", "0xe7f1725e7734ce288f8367e1bb143e90bb3f0512",
                wallets.create("relayer").getAddress(), wallets.create("demo-seller").getAddress()).write(record);
        String recorded = Files.readString(record);

        assertThatThrownBy(() -> new PaymentChain(properties, wallets, RecordedWallets.NONE))
                .isInstanceOf(dev.gpubroker.config.StartupRefusal.class)
                .hasMessageContaining("are not on the embedded chain")
                .hasMessageContaining(properties.dataDir().resolve("chain/anvil-state.json").toString())
                .hasMessageContaining("Nothing was deployed, minted or re-keyed");
        assertThat(Files.readString(record)).isEqualTo(recorded);
        long anvil = Long.parseLong(Files.readString(properties.dataDir().resolve("chain/anvil.pid")).strip());
        assertThat(ProcessHandle.of(anvil).map(ProcessHandle::isAlive).orElse(false))
                .as("a refused start leaves no node running").isFalse();
    }

    @Test
    void aConfiguredTokenDomainTheTokenDoesNotSignUnderIsRefusedAtStart() throws Exception {
        try (AnvilNode anvil = AnvilNode.start()) {
            Path shared = Scratch.directory("gpubroker-shared");
            BrokerProperties deployedAs = properties(devChain(anvil, shared, "USD Coin"));
            WalletStore wallets = wallets(deployedAs);
            new PaymentChain(deployedAs, wallets, RecordedWallets.NONE).destroy();
            BrokerProperties misnamed = properties(devChain(anvil, shared, "USDC"));

            // x402 clients sign under extra.name: a name the token does not use would make every payment fail on chain.
            assertThatThrownBy(() -> new PaymentChain(misnamed, wallets, RecordedWallets.NONE))
                    .isInstanceOf(dev.gpubroker.config.StartupRefusal.class)
                    .hasMessageContaining("another EIP-712 domain than name \"USDC\", version \"2\"")
                    .hasMessageContaining("gpubroker.chain.usdc-domain-name");
        }
    }

    private static BrokerProperties.Chain devChain(AnvilNode anvil, Path shared, String usdcDomainName) {
        return new BrokerProperties.Chain("dev", "", anvil.rpcUrl(), 0, "", "", "", usdcDomainName, "2", 1,
                Duration.ofSeconds(5), Duration.ofSeconds(30), 15, Duration.ofHours(1), Duration.ofHours(24), "0",
                Duration.ZERO, "", shared.resolve("deployment.json").toString());
    }

    private static WalletStore wallets(BrokerProperties properties) throws Exception {
        return new WalletStore(properties, new MockEnvironment().withProperty(WalletStore.PASSWORD_VARIABLE, "test-password"));
    }

    private static BrokerProperties properties(BrokerProperties.Chain chain) throws Exception {
        Path dataDir = Scratch.directory("gpubroker-chain-");
        return new BrokerProperties(dataDir, true,
                new BrokerProperties.Quotes(Duration.ofSeconds(60), 20, 1.5),
                new BrokerProperties.Reservations(Duration.ofMinutes(10), Duration.ofSeconds(1), Duration.ofSeconds(30), 100),
                new BrokerProperties.Market(Duration.ofSeconds(3), "classpath:demo-marketplace.yml", true,
                        new BrokerProperties.Local(BrokerProperties.Local.Switch.OFF, "2.00", "local", 0.99), null),
                new BrokerProperties.Http(List.of(), List.of()),
                new BrokerProperties.Database("", "", "", Duration.ofSeconds(1)),
                chain,
                new BrokerProperties.Wallets(dataDir.resolve("wallets"), ""), null, null, null);
    }
}
