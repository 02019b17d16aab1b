package dev.gpubroker.bench;

import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.web3j.crypto.Credentials;
import org.web3j.crypto.WalletUtils;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.protocol.http.HttpService;
import org.web3j.tx.RawTransactionManager;
import org.web3j.tx.response.PollingTransactionReceiptProcessor;

import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema;

import dev.gpubroker.payments.chain.EmbeddedAnvil;
import dev.gpubroker.payments.chain.EscrowContract;
import dev.gpubroker.payments.chain.TokenContract;
import dev.gpubroker.support.BrokerJar;
import dev.gpubroker.support.JarClient;

/**
 * Payments through the real jar, its relayer and its embedded anvil: how many reach 'confirmed' per second when
 * agents pay concurrently over MCP, and the gas of a deposit, a settle and a refund beside a bare ERC-20 transfer.
 * Prints numbers; not a test. Run after {@code mvn package -DskipTests}:
 *
 * <pre>mvn -q test-compile exec:java -Dexec.mainClass=dev.gpubroker.bench.PaymentBenchmark -Dexec.classpathScope=test</pre>
 */
public final class PaymentBenchmark {

    private static final int PAYMENTS = 80;
    private static final int CONCURRENCY = 16;
    private static final Pattern ANVIL_URL = Pattern.compile("anvil on (http://127\\.0\\.0\\.1:\\d+)");
    private static final Pattern ADDRESS = Pattern.compile("escrow at (0x[0-9a-fA-F]{40})");
    private static final Pattern USDC = Pattern.compile("test USDC at (0x[0-9a-fA-F]{40})");

    public static void main(String[] args) throws Exception {
        Path dataDir = BrokerJar.newDataDir();
        Path catalog = Path.of("src/test/resources/catalogs/payments.yml").toAbsolutePath();
        try (BrokerJar server = BrokerJar.startHttp(dataDir, "--gpubroker.market.demo-catalog=file:" + catalog,
                "--gpubroker.wallets.dir=" + dataDir.resolve("wallets"), "--gpubroker.reservations.max-open-per-agent=1000")) {
            String key = server.demoAgentKey();
            List<McpSyncClient> clients = new ArrayList<>();
            for (int i = 0; i < CONCURRENCY; i++) {
                clients.add(JarClient.connect(server, key));
            }
            List<String> reservations = new ArrayList<>();
            for (int i = 0; i < PAYMENTS; i++) {
                reservations.add(reserve(clients.get(i % CONCURRENCY), "bench-reserve-" + i));
            }

            long start = System.nanoTime();
            List<Future<Map<String, Object>>> payments = new ArrayList<>();
            try (ExecutorService pool = Executors.newFixedThreadPool(CONCURRENCY)) {
                for (int i = 0; i < PAYMENTS; i++) {
                    int index = i;
                    payments.add(pool.submit(() -> pay(clients.get(index % CONCURRENCY), reservations.get(index),
                            "bench-pay-" + index)));
                }
            }
            List<String> deposits = new ArrayList<>();
            for (Future<Map<String, Object>> payment : payments) {
                Map<String, Object> output = payment.get();
                if ("confirmed".equals(output.get("status"))) {
                    deposits.add((String) output.get("txHash"));
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            System.out.printf("%d payments over MCP by %d concurrent clients: %d confirmed in %.2f s = %.1f payments/s "
                    + "(each: sign EIP-3009, relayer lane, deposit, receipt, ledger)%n",
                    PAYMENTS, CONCURRENCY, deposits.size(), seconds, deposits.size() / seconds);

            gas(server, dataDir, deposits);
            clients.forEach(McpSyncClient::closeGracefully);
        }
    }

    private static void gas(BrokerJar server, Path dataDir, List<String> deposits) throws Exception {
        String log = server.log();
        String rpcUrl = find(ANVIL_URL, log);
        String escrow = find(ADDRESS, log);
        String usdc = find(USDC, log);
        Web3j web3j = Web3j.build(new HttpService(rpcUrl));
        try {
            List<Long> depositGas = new ArrayList<>();
            for (String hash : deposits) {
                depositGas.add(web3j.ethGetTransactionReceipt(hash).send().getTransactionReceipt().orElseThrow()
                        .getGasUsed().longValueExact());
            }
            depositGas.sort(Long::compare);
            // Settles 0.10 of a 0.15 USDC deposit (both sides paid). The operator's own key, from the benchmark's throw-away data directory, to settle and refund.
            Path wallets = dataDir.resolve("wallets");
            Credentials relayer = WalletUtils.loadCredentials(Files.readString(wallets.resolve(".password")).strip(),
                    wallets.resolve("relayer.json").toFile());
            long settle = send(web3j, relayer, escrow, EscrowContract.settle(
                    key(web3j, deposits.get(0)), BigInteger.valueOf(100_000))).getGasUsed().longValueExact();
            long refund = send(web3j, relayer, escrow, EscrowContract.refund(key(web3j, deposits.get(1))))
                    .getGasUsed().longValueExact();
            Credentials funder = Credentials.create(EmbeddedAnvil.DEV_FUNDER_PRIVATE_KEY);
            send(web3j, funder, usdc, TokenContract.mint(funder.getAddress(), BigInteger.valueOf(10_000_000)));
            long transfer = send(web3j, funder, usdc, TokenContract.transfer(relayer.getAddress(),
                    BigInteger.valueOf(1_000_000))).getGasUsed().longValueExact();
            System.out.printf("gas: ERC-20 transfer %d | deposit (EIP-3009 receiveWithAuthorization into escrow) median %d, "
                    + "min %d, max %d | settle %d | refund %d%n", transfer, depositGas.get(depositGas.size() / 2),
                    depositGas.getFirst(), depositGas.getLast(), settle, refund);
        } finally {
            web3j.shutdown();
        }
    }

    /** The escrow reservation key of a deposit: topic 1 of its Deposited log. */
    private static String key(Web3j web3j, String depositHash) throws Exception {
        return web3j.ethGetTransactionReceipt(depositHash).send().getTransactionReceipt().orElseThrow().getLogs().stream()
                .filter(entry -> entry.getTopics().getFirst().equals(EscrowContract.DEPOSITED_TOPIC))
                .findFirst().orElseThrow().getTopics().get(1);
    }

    private static TransactionReceipt send(Web3j web3j, Credentials from, String to, String data) throws Exception {
        RawTransactionManager manager = new RawTransactionManager(web3j, from, EmbeddedAnvil.CHAIN_ID);
        var sent = manager.sendTransaction(web3j.ethGasPrice().send().getGasPrice().multiply(BigInteger.TWO),
                BigInteger.valueOf(300_000), to, data, BigInteger.ZERO);
        if (sent.hasError()) {
            throw new IllegalStateException(sent.getError().getMessage());
        }
        TransactionReceipt receipt = new PollingTransactionReceiptProcessor(web3j, 50, 200)
                .waitForTransactionReceipt(sent.getTransactionHash());
        if (!receipt.isStatusOK()) {
            throw new IllegalStateException("reverted: " + receipt.getRevertReason());
        }
        return receipt;
    }

    private static String find(Pattern pattern, String log) {
        Matcher matcher = pattern.matcher(log);
        if (!matcher.find()) {
            throw new IllegalStateException("not in the server log: " + pattern);
        }
        return matcher.group(1);
    }

    @SuppressWarnings("unchecked")
    private static String reserve(McpSyncClient client, String key) {
        var quote = client.callTool(new McpSchema.CallToolRequest("quote", Map.of("gpu", "L40S", "durationMinutes", 10)));
        var quotes = (List<Map<String, Object>>) ((Map<String, Object>) quote.structuredContent()).get("quotes");
        var reserved = client.callTool(new McpSchema.CallToolRequest("reserve",
                Map.of("quoteId", quotes.getFirst().get("quoteId"), "idempotencyKey", key)));
        return (String) ((Map<String, Object>) reserved.structuredContent()).get("reservationId");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> pay(McpSyncClient client, String reservationId, String key) {
        var paid = client.callTool(new McpSchema.CallToolRequest("pay", Map.of("reservationId", reservationId,
                "idempotencyKey", key)));
        if (Boolean.TRUE.equals(paid.isError())) {
            throw new IllegalStateException(String.valueOf(paid.content()));
        }
        return (Map<String, Object>) paid.structuredContent();
    }
}
