package dev.gpubroker.support;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.web3j.abi.EventEncoder;
import org.web3j.abi.TypeReference;
import org.web3j.abi.datatypes.Address;
import org.web3j.abi.datatypes.Event;
import org.web3j.abi.datatypes.generated.Uint256;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.utils.Numeric;

import dev.gpubroker.payments.chain.ChainClient;
import dev.gpubroker.payments.chain.DevChainAccount;
import dev.gpubroker.payments.chain.EscrowContract;
import dev.gpubroker.payments.chain.EscrowDeposit;
import dev.gpubroker.payments.chain.TokenContract;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * The embedded chain of a running jar, seen from outside as anyone with its RPC URL sees it: the node the jar's log
 * names, the contracts its deployment record names. Mints test USDC (anvil's first account deployed the token and owns
 * it) and reads balances, receipts and the escrow's deposits.
 */
public final class JarChain implements AutoCloseable {

    private static final Pattern RPC_URL = Pattern.compile("Embedded chain: anvil on (http://127\\.0\\.0\\.1:\\d+) ");
    private static final Duration RPC_TIMEOUT = Duration.ofSeconds(10);
    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final String TRANSFER_TOPIC = EventEncoder.encode(new Event("Transfer", List.of(
            new TypeReference<Address>(true) { }, new TypeReference<Address>(true) { }, new TypeReference<Uint256>() { })));

    private final ChainClient client;
    private final long chainId;
    private final String usdc;
    private final String escrow;

    private JarChain(ChainClient client, long chainId, String usdc, String escrow) {
        this.client = client;
        this.chainId = chainId;
        this.usdc = usdc;
        this.escrow = escrow;
    }

    /** The chain of a jar that is up (its port open: the chain was started and deployed before). */
    public static JarChain of(BrokerJar jar) throws Exception {
        Matcher rpcUrl = RPC_URL.matcher(jar.log());
        assertThat(rpcUrl.find()).as("the embedded chain's URL in the log:\n" + jar.log()).isTrue();
        JsonNode deployment = JSON.readTree(Files.readString(jar.dataDir().resolve("chain/deployment.json")));
        ChainClient client = new ChainClient(rpcUrl.group(1), RPC_TIMEOUT);
        return new JarChain(client, client.chainIdAtStartup(), deployment.get("usdc").asString(),
                deployment.get("escrow").asString());
    }

    public long chainId() {
        return chainId;
    }

    public String usdc() {
        return usdc;
    }

    public String escrow() {
        return escrow;
    }

    public void mintTestUsdc(String to, long micros) throws Exception {
        try (DevChainAccount owner = new DevChainAccount(client.url(), chainId)) {
            owner.call(usdc, TokenContract.mint(to, BigInteger.valueOf(micros)));
        }
    }

    public long usdcMicros(String owner) {
        return new TokenContract(client, usdc).balanceOf(owner).block().longValueExact();
    }

    /** What the escrow holds for a reservation of the broker's (by its reservation id). */
    public EscrowDeposit deposit(String reservationId) {
        String key = EscrowContract.reservationKey(reservationId);
        return client.call(null, escrow, EscrowContract.depositsCall(key))
                .map(result -> EscrowContract.decodeDeposit(key, result)).block();
    }

    public Optional<TransactionReceipt> receipt(String transactionHash) {
        return client.receipt(transactionHash).block();
    }

    /** A movement of test USDC, as the token's {@code Transfer} event says it. */
    public record Transfer(String from, String to, long micros) {
    }

    /** The test USDC a mined transaction moved, in the order of its logs. */
    public List<Transfer> usdcTransfers(String transactionHash) {
        return receipt(transactionHash).orElseThrow().getLogs().stream()
                .filter(log -> log.getAddress().equalsIgnoreCase(usdc) && log.getTopics().size() == 3
                        && log.getTopics().getFirst().equals(TRANSFER_TOPIC))
                .map(log -> new Transfer(topicAddress(log.getTopics().get(1)), topicAddress(log.getTopics().get(2)),
                        Numeric.toBigInt(log.getData()).longValueExact()))
                .toList();
    }

    private static String topicAddress(String topic) {
        return "0x" + topic.substring(topic.length() - 40);
    }

    @Override
    public void close() {
        client.close();
    }
}
