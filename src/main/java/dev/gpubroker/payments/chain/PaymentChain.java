package dev.gpubroker.payments.chain;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.crypto.Credentials;
import org.web3j.utils.Convert;

import com.fasterxml.jackson.databind.ObjectMapper;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.wallet.WalletStore;

/**
 * The chain payments settle on, checked at start. Embedded (default): anvil on loopback, the test USDC and the escrow
 * deployed on first start and recorded in {@code <data>/chain/deployment.json}, the relayer given test ETH. RPC: the
 * configured endpoint must have the expected chain id and contract code at the configured addresses; otherwise the
 * server does not start, and says what is wrong.
 */
@Component
public class PaymentChain implements DisposableBean {

    static final String USDC_CONTRACT = "TestUsdc";
    static final String ESCROW_CONTRACT = "GpuEscrow";
    static final String RELAYER_WALLET = "relayer";
    static final String DEMO_SELLER_WALLET = "demo-seller";
    private static final BigInteger RELAYER_ETH_MIN = Convert.toWei("1", Convert.Unit.ETHER).toBigInteger();
    private static final BigInteger RELAYER_ETH_TOP_UP = Convert.toWei("100", Convert.Unit.ETHER).toBigInteger();
    private static final Logger log = LoggerFactory.getLogger(PaymentChain.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final EmbeddedAnvil anvil;
    private final DevChainAccount devAccount;
    private final ChainContext context;

    public PaymentChain(BrokerProperties properties, WalletStore wallets) throws IOException, InterruptedException {
        BrokerProperties.Chain chain = properties.chain();
        Credentials relayer = wallets.credentials(RELAYER_WALLET);
        if (chain.embedded()) {
            this.anvil = EmbeddedAnvil.start(properties.dataDir(), chain.embeddedBlockTime(), chain.anvil());
            this.devAccount = new DevChainAccount(anvil.rpcUrl(), EmbeddedAnvil.CHAIN_ID);
            this.context = embedded(properties, relayer, wallets.addressOf(DEMO_SELLER_WALLET));
        } else {
            this.anvil = null;
            this.devAccount = null;
            this.context = remote(chain, relayer);
        }
        log.info("Payments on {}", context);
    }

    public ChainContext context() {
        return context;
    }

    /** Whether test USDC can be minted here (the embedded development chain only). */
    public boolean isDevelopmentChain() {
        return devAccount != null;
    }

    /** Mints test USDC to an address; the embedded development chain only. Blocking. */
    public void mintTestUsdc(String to, Usdc amount) throws IOException, InterruptedException {
        if (devAccount == null) {
            throw new IllegalStateException("test USDC exists only on the embedded development chain");
        }
        devAccount.call(context.usdc().address(), TokenContract.mint(to, BigInteger.valueOf(amount.micros())));
        log.info("Minted {} test USDC to {}", amount.toDecimalString(), to);
    }

    private ChainContext embedded(BrokerProperties properties, Credentials relayer, String payee)
            throws IOException, InterruptedException {
        BrokerProperties.Chain chain = properties.chain();
        ChainClient client = new ChainClient(anvil.rpcUrl(), chain.rpcTimeout());
        requireChainId(client, EmbeddedAnvil.CHAIN_ID);
        Path record = properties.dataDir().resolve("chain").resolve("deployment.json").toAbsolutePath();
        Map<String, String> deployment = Files.isRegularFile(record)
                ? JSON.readValue(record.toFile(), JSON.getTypeFactory().constructMapType(Map.class, String.class, String.class))
                : Map.of();
        String usdc = deployment.get("usdc");
        String escrow = deployment.get("escrow");
        boolean usable = usdc != null && escrow != null && relayer.getAddress().equalsIgnoreCase(deployment.get("operator"))
                && hasCode(client, usdc) && hasCode(client, escrow);
        if (!usable) {
            usdc = devAccount.deploy(ContractArtifact.load(USDC_CONTRACT).bytecode());
            escrow = devAccount.deploy(ContractArtifact.load(ESCROW_CONTRACT).bytecode() + FunctionEncoder.encodeConstructor(List.of(
                    new Address(usdc), new Address(relayer.getAddress()), new Uint256(chain.reclaimGrace().toSeconds()))));
            Files.createDirectories(record.getParent());
            JSON.writerWithDefaultPrettyPrinter().writeValue(record.toFile(),
                    Map.of("usdc", usdc, "escrow", escrow, "operator", relayer.getAddress()));
            log.info("Deployed test USDC at {} and the escrow at {} (operator {}) on the embedded chain", usdc, escrow,
                    relayer.getAddress());
        }
        BigInteger relayerBalance = client.etherBalanceAtStartup(relayer.getAddress());
        if (relayerBalance == null || relayerBalance.compareTo(RELAYER_ETH_MIN) < 0) {
            devAccount.sendEther(relayer.getAddress(), RELAYER_ETH_TOP_UP);
            log.info("Gave the relayer {} 100 test ETH for gas", relayer.getAddress());
        }
        return new ChainContext(client, EmbeddedAnvil.CHAIN_ID, new TokenContract(client, usdc),
                new Eip3009(chain.usdcDomainName(), chain.usdcDomainVersion(), EmbeddedAnvil.CHAIN_ID, usdc), escrow, payee,
                relayer, chain.confirmations());
    }

    private static ChainContext remote(BrokerProperties.Chain chain, Credentials relayer) {
        ChainPreset preset = ChainPreset.named(chain.preset());
        long chainId = chain.chainId() != 0 ? chain.chainId() : preset.chainId();
        String usdc = !chain.usdcAddress().isBlank() ? chain.usdcAddress() : preset.usdcAddress();
        String domainName = preset == ChainPreset.NONE ? chain.usdcDomainName() : preset.usdcDomainName();
        List<String> missing = new java.util.ArrayList<>();
        if (chain.rpcUrl().isBlank()) {
            missing.add("gpubroker.chain.rpc-url");
        }
        if (chainId == 0) {
            missing.add("gpubroker.chain.chain-id (or gpubroker.chain.preset=base|base-sepolia)");
        }
        if (usdc == null || usdc.isBlank()) {
            missing.add("gpubroker.chain.usdc-address");
        }
        if (chain.escrowAddress().isBlank()) {
            missing.add("gpubroker.chain.escrow-address (deploy src/main/solidity/GpuEscrow.sol, see docs/contracts.md)");
        }
        if (chain.payeeAddress().isBlank()) {
            missing.add("gpubroker.chain.payee-address (where settlements pay the seller)");
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("gpubroker.chain.mode=rpc needs " + String.join(", ", missing));
        }
        ChainClient client = new ChainClient(chain.rpcUrl(), chain.rpcTimeout());
        requireChainId(client, chainId);
        for (var contract : Map.of("USDC", usdc, "escrow", chain.escrowAddress()).entrySet()) {
            if (!hasCode(client, contract.getValue())) {
                throw new IllegalStateException("no contract code at the " + contract.getKey() + " address "
                        + contract.getValue() + " on chain " + chainId + " (" + chain.rpcUrl() + ")");
            }
        }
        return new ChainContext(client, chainId, new TokenContract(client, usdc),
                new Eip3009(domainName, chain.usdcDomainVersion(), chainId, usdc), chain.escrowAddress(),
                chain.payeeAddress(), relayer, chain.confirmations());
    }

    private static void requireChainId(ChainClient client, long expected) {
        long actual;
        try {
            actual = client.chainIdAtStartup();
        } catch (java.io.IOException | RuntimeException e) {
            throw new IllegalStateException("the chain at " + client.url() + " does not answer: " + e.getMessage(), e);
        }
        if (actual != expected) {
            throw new IllegalStateException("the chain at " + client.url() + " has chain id " + actual + ", expected " + expected);
        }
    }

    private static boolean hasCode(ChainClient client, String address) {
        try {
            return client.hasCodeAtStartup(address);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("the chain at " + client.url() + " does not answer: " + e.getMessage(), e);
        }
    }

    @Override
    public void destroy() {
        context.client().close();
        if (devAccount != null) {
            devAccount.close();
        }
        if (anvil != null) {
            anvil.close();
        }
    }
}
