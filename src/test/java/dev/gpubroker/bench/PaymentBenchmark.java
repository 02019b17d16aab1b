package dev.gpubroker.bench;

import java.lang.management.ManagementFactory;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.LongStream;

import org.web3j.crypto.Credentials;
import org.web3j.crypto.WalletUtils;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.DefaultBlockParameterName;
import org.web3j.protocol.core.methods.response.TransactionReceipt;
import org.web3j.protocol.http.HttpService;
import org.web3j.tx.RawTransactionManager;
import org.web3j.tx.response.PollingTransactionReceiptProcessor;

import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.spec.McpSchema;

import dev.gpubroker.payments.chain.EmbeddedAnvil;
import dev.gpubroker.contracts.EscrowGasTable;
import dev.gpubroker.payments.chain.EscrowContract;
import dev.gpubroker.payments.chain.TokenContract;
import dev.gpubroker.support.BrokerJar;
import dev.gpubroker.support.JarClient;

/**
 * Payments through the real jar, its relayer and its embedded anvil: how many deposits reach 'confirmed' per second
 * when agents pay concurrently over MCP, once with automine (block time 0: every transaction its own block at once) and
 * once with a 1-second block time (many deposits in flight per block, as on a real chain); then the gas of a deposit, a
 * settle and a refund beside a bare ERC-20 transfer. Each run checks that every payment was confirmed exactly once and
 * that the relayer's nonces on chain are exactly one per deposit, without a gap. Prints numbers; not a test. Run after
 * {@code mvn package -DskipTests}:
 *
 * <pre>mvn -q test-compile exec:java -Dexec.mainClass=dev.gpubroker.bench.PaymentBenchmark -Dexec.classpathScope=test</pre>
 *
 * Options: {@code -Dbench.blockTimes=0,1} (seconds, one jar start each), {@code -Dbench.payments=600},
 * {@code -Dbench.warmup=300} (payments before the measured ones),
 * {@code -Dbench.concurrency=128}, {@code -Dgpubroker.jar=} another build.
 */
public final class PaymentBenchmark {

    /*
     * The target is 50 confirmed deposits per second at a 1-second block time. A payment at that block time takes about
     * a second and a half from pay to its 'confirmed' answer (up to a block's wait, the tracker's pass, the answer's
     * wake-up), so keeping 50/s going needs about 50 x 1.5 = 75 payments in flight (Little's law), and each client
     * has one in flight: 64 clients capped the rate near 64/s at best and, with the blocks' rhythm, 43 to 61 in practice
     * (the figure measured the clients as much as the relayer). 128 clients leave the relayer the bound. 600 payments
     * at that rate take 10 to 12 s, so the figure is an average over about ten blocks, not the luck of one.
     */
    private static final int PAYMENTS = Integer.getInteger("bench.payments", 600);
    /**
     * Payments made, and checked, before the measured ones: a server that has just started compiles its payment path
     * (the JIT) while it pays, which is CPU a running broker does not spend. 0 measures the cold start.
     */
    private static final int WARMUP = Integer.getInteger("bench.warmup", 300);
    private static final int CONCURRENCY = Integer.getInteger("bench.concurrency", 128);
    /** The server keeps 64 MCP sessions per agent; more payments in flight share them (a session takes concurrent calls). */
    private static final int SESSIONS = Math.min(CONCURRENCY, 64);
    private static final List<Integer> BLOCK_TIMES_SECONDS = Arrays.stream(System.getProperty("bench.blockTimes", "0,1")
            .split(",")).map(String::strip).map(Integer::valueOf).toList();
    private static final Duration CONFIRMED_WAIT = Duration.ofSeconds(120);
    private static final Pattern ANVIL_URL = Pattern.compile("anvil on (http://127\\.0\\.0\\.1:\\d+)");
    private static final Pattern ADDRESS = Pattern.compile("escrow at (0x[0-9a-fA-F]{40})");
    private static final Pattern USDC = Pattern.compile("test USDC at (0x[0-9a-fA-F]{40})");

    public static void main(String[] args) throws Exception {
        for (int blockTimeSeconds : BLOCK_TIMES_SECONDS) {
            run(blockTimeSeconds, blockTimeSeconds == BLOCK_TIMES_SECONDS.getFirst());
        }
        // Gas per job for every escrow path (stock x402 transfers, batched settlement), on a fresh anvil of its own.
        System.out.print(EscrowGasTable.measure().table());
    }

    private static void run(int blockTimeSeconds, boolean measureGas) throws Exception {
        Path dataDir = BrokerJar.newDataDir();
        Path catalog = Path.of("src/test/resources/catalogs/bench-payments.yml").toAbsolutePath();
        try (BrokerJar server = BrokerJar.startHttp(dataDir, "--gpubroker.market.demo-catalog=file:" + catalog,
                "--gpubroker.wallets.dir=" + dataDir.resolve("wallets"), "--gpubroker.reservations.max-open-per-agent=1000",
                "--gpubroker.chain.embedded-block-time=" + blockTimeSeconds + "s")) {
            String key = server.demoAgentKey();
            List<McpSyncClient> clients = new ArrayList<>();
            for (int i = 0; i < SESSIONS; i++) {
                clients.add(JarClient.connect(server, key));
            }
            JarClient.awaitFunded(clients.getFirst());
            List<String> reservations = inParallel(WARMUP + PAYMENTS, index -> reserve(clients.get(index % SESSIONS),
                    "bench-reserve-" + index));
            Web3j web3j = Web3j.build(new HttpService(find(ANVIL_URL, server.log())));
            try {
                String relayer = relayerCredentials(dataDir).getAddress();
                if (WARMUP > 0) {
                    long warmupStart = System.nanoTime();
                    inParallel(WARMUP, index -> awaitConfirmed(clients.get(index % SESSIONS),
                            reservations.get(PAYMENTS + index), "bench-warmup-" + index,
                            pay(clients.get(index % SESSIONS), reservations.get(PAYMENTS + index), "bench-warmup-" + index)));
                    System.out.printf("block time %d s: warm-up, %d payments confirmed in %.2f s (not measured)%n",
                            blockTimeSeconds, WARMUP, (System.nanoTime() - warmupStart) / 1e9);
                }
                long firstNonce = chainNonce(web3j, relayer);
                flightRecording(server, "start", blockTimeSeconds);

                Duration serverCpuBefore = cpu(server.processHandle());
                Duration chainCpuBefore = cpu(anvil(server));
                long start = System.nanoTime();
                AtomicInteger answeredConfirmed = new AtomicInteger();
                List<String> deposits = inParallel(PAYMENTS, index -> {
                    McpSyncClient client = clients.get(index % SESSIONS);
                    Map<String, Object> answer = pay(client, reservations.get(index), "bench-pay-" + index);
                    if ("confirmed".equals(answer.get("status"))) {
                        answeredConfirmed.incrementAndGet();
                    }
                    // Not confirmed within pay's own wait: asked again with the same key, which shows the same payment.
                    return awaitConfirmed(client, reservations.get(index), "bench-pay-" + index, answer);
                });
                double seconds = (System.nanoTime() - start) / 1e9;
                flightRecording(server, "stop", blockTimeSeconds);
                double serverCpuMillis = cpu(server.processHandle()).minus(serverCpuBefore).toNanos() / 1e6 / PAYMENTS;
                double chainCpuMillis = cpu(anvil(server)).minus(chainCpuBefore).toNanos() / 1e6 / PAYMENTS;

                Blocks blocks = checkExactlyOnce(web3j, relayer, firstNonce, deposits);
                System.out.printf("block time %d s: %d payments over MCP by %d concurrent clients: %d confirmed in %.2f s "
                        + "= %.1f deposits/s (%d answered 'confirmed' at once); %d blocks, deposits per block median %d, "
                        + "max %d; relayer nonces %d..%d, each once, no gap; CPU per deposit: server %.1f ms, anvil %.1f ms; "
                        + "load average %.1f%n", blockTimeSeconds, PAYMENTS, CONCURRENCY,
                        deposits.size(), seconds, deposits.size() / seconds, answeredConfirmed.get(), blocks.count(),
                        blocks.median(), blocks.max(), firstNonce, firstNonce + PAYMENTS - 1, serverCpuMillis,
                        chainCpuMillis, ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
                if (measureGas) {
                    gas(server, dataDir, deposits);
                }
            } finally {
                web3j.shutdown();
            }
            clients.forEach(McpSyncClient::closeGracefully);
        }
    }

    /**
     * {@code -Dbench.jfr=DIR}: a flight recording (profiling settings) of the server during the measured payments only,
     * started and stopped with the JDK's jcmd, to DIR/payments-&lt;block time&gt;s.jfr.
     */
    private static void flightRecording(BrokerJar server, String action, int blockTimeSeconds) throws Exception {
        String dir = System.getProperty("bench.jfr");
        if (dir == null) {
            return;
        }
        Path file = Files.createDirectories(Path.of(dir)).toAbsolutePath().resolve("payments-" + blockTimeSeconds + "s.jfr");
        String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
        List<String> command = new ArrayList<>(List.of(jcmd, String.valueOf(server.processHandle().pid())));
        if ("start".equals(action)) {
            command.addAll(List.of("JFR.start", "name=bench", "settings=profile"));
            // e.g. jdk.CPUTimeSample#enabled=true,jdk.CPUTimeSample#throttle=1ms (JDK 25: samples by CPU time)
            Arrays.stream(System.getProperty("bench.jfrSettings", "").split(",")).filter(setting -> !setting.isBlank())
                    .forEach(command::add);
        } else {
            command.addAll(List.of("JFR.stop", "name=bench", "filename=" + file));
        }
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes());
        if (process.waitFor() != 0) {
            throw new IllegalStateException("jcmd " + action + " failed: " + output);
        }
    }

    private record Blocks(int count, int median, int max) {
    }

    /**
     * Every payment has its own deposit, mined with status 1; the relayer's nonce moved by exactly the number of
     * deposits, and the deposits hold every nonce in between once: no gap, no deposit twice, nothing else sent.
     */
    private static Blocks checkExactlyOnce(Web3j web3j, String relayer, long firstNonce, List<String> deposits)
            throws Exception {
        if (new HashSet<>(deposits).size() != PAYMENTS) {
            throw new IllegalStateException("expected " + PAYMENTS + " distinct deposits, got "
                    + new HashSet<>(deposits).size());
        }
        List<Long> nonces = new ArrayList<>();
        Map<BigInteger, Integer> perBlock = new TreeMap<>();
        for (String hash : deposits) {
            TransactionReceipt receipt = web3j.ethGetTransactionReceipt(hash).send().getTransactionReceipt().orElseThrow();
            if (!receipt.isStatusOK()) {
                throw new IllegalStateException("deposit " + hash + " reverted");
            }
            perBlock.merge(receipt.getBlockNumber(), 1, Integer::sum);
            nonces.add(web3j.ethGetTransactionByHash(hash).send().getTransaction().orElseThrow().getNonce().longValueExact());
        }
        nonces.sort(null);
        List<Long> expected = LongStream.range(firstNonce, firstNonce + PAYMENTS).boxed().toList();
        long lastNonce = chainNonce(web3j, relayer);
        if (!nonces.equals(expected) || lastNonce != firstNonce + PAYMENTS) {
            throw new IllegalStateException("relayer nonces " + firstNonce + " to " + lastNonce + " on chain for "
                    + PAYMENTS + " deposits; the deposits' nonces: " + nonces);
        }
        List<Integer> sizes = perBlock.values().stream().sorted().toList();
        return new Blocks(sizes.size(), sizes.get(sizes.size() / 2), sizes.getLast());
    }

    /** The embedded anvil: the server's child process. */
    private static ProcessHandle anvil(BrokerJar server) {
        return server.processHandle().children()
                .filter(child -> child.info().command().map(command -> command.endsWith("anvil")).orElse(false))
                .findFirst().orElseThrow(() -> new IllegalStateException("the server runs no anvil"));
    }

    private static Duration cpu(ProcessHandle process) {
        return process.info().totalCpuDuration().orElse(Duration.ZERO);
    }

    private static long chainNonce(Web3j web3j, String address) throws Exception {
        return web3j.ethGetTransactionCount(address, DefaultBlockParameterName.LATEST).send().getTransactionCount()
                .longValueExact();
    }

    private static Credentials relayerCredentials(Path dataDir) throws Exception {
        Path wallets = dataDir.resolve("wallets");
        return WalletUtils.loadCredentials(Files.readString(wallets.resolve(".password")).strip(),
                wallets.resolve("relayer.json").toFile());
    }

    /** {@code task} for indexes 0 to count - 1, {@link #CONCURRENCY} at a time; the answers in index order. */
    private static <T> List<T> inParallel(int count, IntFunction<T> task) throws Exception {
        List<Future<T>> futures = new ArrayList<>();
        try (ExecutorService pool = Executors.newFixedThreadPool(CONCURRENCY)) {
            for (int i = 0; i < count; i++) {
                int index = i;
                futures.add(pool.submit(() -> task.apply(index)));
            }
        }
        List<T> results = new ArrayList<>();
        for (Future<T> future : futures) {
            results.add(future.get());
        }
        return results;
    }

    /** The deposit's hash once the payment is confirmed; fails when it failed or stays unconfirmed too long. */
    private static String awaitConfirmed(McpSyncClient client, String reservationId, String key,
            Map<String, Object> answer) {
        long deadline = System.nanoTime() + CONFIRMED_WAIT.toNanos();
        Map<String, Object> current = answer;
        while (!"confirmed".equals(current.get("status"))) {
            if (!"submitted".equals(current.get("status")) && !"pending".equals(current.get("status"))
                    || System.nanoTime() > deadline) {
                throw new IllegalStateException("payment " + key + " did not confirm: " + current);
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
            current = pay(client, reservationId, key);
        }
        return (String) current.get("txHash");
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
            Credentials relayer = relayerCredentials(dataDir);
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
        var quotes = (List<Map<String, Object>>) JarClient.structured(client, "quote",
                Map.of("gpu", "L40S", "durationMinutes", 10)).get("quotes");
        return (String) JarClient.structured(client, "reserve",
                Map.of("quoteId", quotes.getFirst().get("quoteId"), "idempotencyKey", key)).get("reservationId");
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
