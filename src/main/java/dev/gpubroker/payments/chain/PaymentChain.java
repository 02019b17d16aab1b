package dev.gpubroker.payments.chain;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.beans.factory.DisposableBean;
import org.springframework.stereotype.Component;
import org.web3j.abi.FunctionEncoder;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.crypto.Credentials;
import org.web3j.utils.Convert;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.config.StartupRefusal;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.wallet.RecordedWallets;
import dev.gpubroker.wallet.WalletStore;

/**
 * The chain payments settle on, checked at start. Embedded (default): anvil on loopback, the test USDC and the escrow
 * deployed on the first start of a data directory and recorded in {@code <data>/chain/deployment.json}, the relayer
 * given test ETH; a recorded deployment is never deployed over, and starts only with its own keys ({@link ChainKeys}).
 * Development ({@code dev}): the same on an anvil someone else runs ({@code gpubroker.chain.rpc-url}), for several
 * instances sharing one development node: they share the deployment record ({@code gpubroker.chain.deployment-file})
 * and the keystores, and the first to start deploys. RPC: the configured endpoint must have the expected chain id and contract code at the configured addresses, and the
 * relayer must be the escrow's operator; otherwise the server does not start, and says what is wrong.
 */
@Component
public class PaymentChain implements DisposableBean {

    static final String USDC_CONTRACT = "TestUsdc";
    static final String ESCROW_CONTRACT = "GpuEscrow";
    private static final BigInteger RELAYER_ETH_MIN = Convert.toWei("1", Convert.Unit.ETHER).toBigInteger();
    private static final BigInteger RELAYER_ETH_TOP_UP = Convert.toWei("100", Convert.Unit.ETHER).toBigInteger();
    private static final Logger log = LoggerFactory.getLogger(PaymentChain.class);

    private final EmbeddedAnvil anvil;
    private final DevChainAccount devAccount;
    private final ChainContext context;
    private final boolean escrowTakesTransfers;

    public PaymentChain(BrokerProperties properties, WalletStore wallets, RecordedWallets recorded)
            throws IOException, InterruptedException {
        BrokerProperties.Chain chain = properties.chain();
        if (chain.embedded() || chain.development()) {
            Path recordFile = chain.deploymentFile().isBlank() ? DeploymentRecord.fileIn(properties.dataDir())
                    : Path.of(chain.deploymentFile()).toAbsolutePath().normalize();
            // Instances that share a development node share its deployment record and keystores: one of them deploys
            // and makes the keys, the others wait for it and then start with what it recorded.
            try (DeploymentLock ignored = DeploymentLock.acquire(recordFile)) {
                Optional<DeploymentRecord> record = DeploymentRecord.read(recordFile);
                // Before anything runs: a data directory whose keys are elsewhere stops here, with nothing started or changed.
                ChainKeys.Keys keys = ChainKeys.forEmbedded(record, recordFile, wallets, recorded,
                        legacyWalletDirs(properties));
                long chainId = developmentChainId(chain);
                this.anvil = chain.embedded() ? EmbeddedAnvil.start(properties.dataDir(), chainId,
                        chain.embeddedBlockTime(), chain.anvil()) : null;
                String rpcUrl = anvil != null ? anvil.rpcUrl() : developmentNode(chain);
                this.devAccount = new DevChainAccount(rpcUrl, chainId);
                try {
                    this.context = embedded(properties, keys, record, recordFile, rpcUrl);
                } catch (RuntimeException | IOException | InterruptedException e) {
                    // A refused start leaves no node running on the data directory's state.
                    devAccount.close();
                    if (anvil != null) {
                        anvil.close();
                    }
                    throw e;
                }
            }
        } else {
            this.anvil = null;
            this.devAccount = null;
            this.context = remote(chain, ChainKeys.forRpc(wallets, recorded));
        }
        this.escrowTakesTransfers = context.client().escrowTakesTransfersAtStartup(context.escrowAddress());
        if (!escrowTakesTransfers) {
            log.warn("The escrow {} was deployed before stock x402 transfers could be deposited (GpuEscrow v2): agents "
                    + "with their own wallet can pay only with a ReceiveWithAuthorization from reserve's "
                    + "paymentRequirements (docs/payments.md)", context.escrowAddress());
        }
        log.info("Payments on {}", context);
    }

    /**
     * Where earlier versions kept the keystores: {@code ./wallets} of the working directory, which, with both defaults,
     * was the data directory's sibling. Only when {@code gpubroker.wallets.dir} is not set.
     */
    private static List<Path> legacyWalletDirs(BrokerProperties properties) {
        if (properties.wallets().dirConfigured()) {
            return List.of();
        }
        List<Path> candidates = new java.util.ArrayList<>(List.of(Path.of("wallets")));
        Path dataParent = properties.dataDir().toAbsolutePath().normalize().getParent();
        if (dataParent != null) {
            candidates.add(dataParent.resolve("wallets"));
        }
        return candidates;
    }

    /** Whether the escrow has depositTransfer and creditTransfer (GpuEscrow v2), checked at start. */
    public boolean escrowTakesTransfers() {
        return escrowTakesTransfers;
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

    /** The embedded or development chain's id: {@code gpubroker.chain.chain-id}, else anvil's default. */
    private static long developmentChainId(BrokerProperties.Chain chain) {
        return chain.chainId() != 0 ? chain.chainId() : EmbeddedAnvil.CHAIN_ID;
    }

    private static String developmentNode(BrokerProperties.Chain chain) {
        if (chain.rpcUrl().isBlank()) {
            throw new StartupRefusal("gpubroker.chain.mode=dev needs gpubroker.chain.rpc-url: the development node "
                    + "(anvil) to deploy the test USDC and the escrow on");
        }
        return chain.rpcUrl();
    }

    private ChainContext embedded(BrokerProperties properties, ChainKeys.Keys keys, Optional<DeploymentRecord> record,
            Path recordFile, String rpcUrl) throws IOException, InterruptedException {
        BrokerProperties.Chain chain = properties.chain();
        Credentials relayer = keys.relayer();
        ChainClient client = new ChainClient(rpcUrl, chain.rpcTimeout());
        requireChainId(client, developmentChainId(chain));
        String usdc;
        String escrow;
        if (record.isPresent()) {
            usdc = record.get().usdc();
            escrow = record.get().escrow();
            if (!hasCode(client, usdc) || !hasCode(client, escrow)) {
                // Deploying again would hide the loss: the database still says who paid what into the old escrow.
                throw new StartupRefusal("the contracts recorded in " + recordFile + " (test USDC " + usdc + ", escrow "
                        + escrow + ") are not on " + (anvil != null ? "the embedded chain: its state, "
                        + recordFile.resolveSibling(EmbeddedAnvil.STATE_FILE) + ", is missing or older than the "
                        + "deployment" : "the development node at " + rpcUrl + ": it was started afresh since")
                        + ", so the balances and escrows recorded there are gone from it. Restore "
                        + (anvil != null ? "that file" : "the node's state") + " from a backup, or point "
                        + "GPUBROKER_DATA_DIR at a new data directory to start over. " + ChainKeys.NOTHING_CHANGED);
            }
        } else {
            usdc = devAccount.deploy(ContractArtifact.load(USDC_CONTRACT).bytecode());
            escrow = devAccount.deploy(ContractArtifact.load(ESCROW_CONTRACT).bytecode() + FunctionEncoder.encodeConstructor(List.of(
                    new Address(usdc), new Address(relayer.getAddress()), new Uint256(chain.reclaimGrace().toSeconds()))));
            new DeploymentRecord(usdc, escrow, relayer.getAddress(), keys.payee()).write(recordFile);
            log.info("Deployed test USDC at {} and the escrow at {} (operator {}) on the {} chain, recorded in {}",
                    usdc, escrow, relayer.getAddress(), anvil != null ? "embedded" : "development", recordFile);
        }
        requireOperator(client, escrow, relayer.getAddress());
        BigInteger relayerBalance = client.etherBalanceAtStartup(relayer.getAddress());
        if (relayerBalance == null || relayerBalance.compareTo(RELAYER_ETH_MIN) < 0) {
            devAccount.sendEther(relayer.getAddress(), RELAYER_ETH_TOP_UP);
            log.info("Gave the relayer {} 100 test ETH for gas", relayer.getAddress());
        }
        ChainContext context = new ChainContext(client, developmentChainId(chain), new TokenContract(client, usdc),
                new Eip3009(chain.usdcDomainName(), chain.usdcDomainVersion(), developmentChainId(chain), usdc), escrow,
                keys.payee(), relayer, chain.confirmations());
        requireTokenDomain(context);
        return context;
    }

    /** The relayer must be the escrow's operator: no other account can settle or refund its deposits. */
    private static void requireOperator(ChainClient client, String escrow, String relayer) {
        String operator;
        try {
            operator = client.escrowOperatorAtStartup(escrow);
        } catch (IOException | RuntimeException e) {
            throw new IllegalStateException("the chain at " + client.url() + " does not answer: " + e.getMessage(), e);
        }
        if (!ChainKeys.sameAddress(operator, relayer)) {
            throw new StartupRefusal("the escrow " + escrow + " is operated by " + operator + ", but this server's relayer ("
                    + "keystore relayer.json) is " + relayer + ", which could neither settle nor refund a deposit: restore "
                    + "the keystore of " + operator + " (" + ChainKeys.FIX_LOCATION + "), or deploy the escrow with "
                    + relayer + " as its operator (docs/contracts.md). " + ChainKeys.NOTHING_CHANGED);
        }
    }

    private static ChainContext remote(BrokerProperties.Chain chain, Credentials relayer) throws IOException {
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
        requireOperator(client, chain.escrowAddress(), relayer.getAddress());
        ChainContext context = new ChainContext(client, chainId, new TokenContract(client, usdc),
                new Eip3009(domainName, chain.usdcDomainVersion(), chainId, usdc), chain.escrowAddress(),
                chain.payeeAddress(), relayer, chain.confirmations());
        requireTokenDomain(context);
        return context;
    }

    /**
     * Every payment is signed under the token's EIP-712 domain, which x402 clients take from {@code extra.name} and
     * {@code extra.version}: a configured name or version the token does not use (Base's USDC is "USD Coin", Base
     * Sepolia's "USDC") would make every signature fail on chain. So it is checked against the token's own
     * DOMAIN_SEPARATOR() before anything is served.
     */
    private static void requireTokenDomain(ChainContext context) throws IOException {
        Optional<String> tokens = context.client().domainSeparatorAtStartup(context.usdc().address());
        String ours = context.usdcAuthorizations().domainSeparator();
        if (tokens.isEmpty()) {
            log.warn("The token {} has no DOMAIN_SEPARATOR(): its EIP-712 domain ({} version {}) cannot be checked",
                    context.usdc().address(), context.usdcAuthorizations().domainName(),
                    context.usdcAuthorizations().domainVersion());
        } else if (!tokens.get().equalsIgnoreCase(ours)) {
            throw new StartupRefusal("the token " + context.usdc().address() + " signs under another EIP-712 domain "
                    + "than name \"" + context.usdcAuthorizations().domainName() + "\", version \""
                    + context.usdcAuthorizations().domainVersion() + "\", chain " + context.chainId() + ": every "
                    + "payment signature would fail. Set gpubroker.chain.usdc-domain-name and usdc-domain-version to "
                    + "the token's (on Base \"USD Coin\", on Base Sepolia \"USDC\", version \"2\")");
        }
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
