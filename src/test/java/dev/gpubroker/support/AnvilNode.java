package dev.gpubroker.support;

import java.io.IOException;
import java.math.BigInteger;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import org.web3j.crypto.Bip32ECKeyPair;
import org.web3j.crypto.Credentials;
import org.web3j.crypto.MnemonicUtils;
import org.web3j.protocol.Web3j;
import org.web3j.protocol.core.Request;
import org.web3j.protocol.core.Response;
import org.web3j.protocol.http.HttpService;

/** A real anvil dev chain on a free loopback port, started as a process and killed on close. */
public final class AnvilNode implements AutoCloseable {

    public static final long CHAIN_ID = 31337;
    public static final int ACCOUNT_COUNT = 10;

    private static final Path ANVIL = Path.of("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");
    /** Anvil's default mnemonic: its dev accounts are funded with 10,000 ETH each. */
    private static final String DEV_MNEMONIC = "test test test test test test test test test test test junk";
    private static final Duration START_TIMEOUT = Duration.ofSeconds(20);

    private final Process process;
    private final Path log;
    private final String rpcUrl;
    private final HttpService http;
    private final Web3j web3j;
    private final List<Credentials> accounts;

    private AnvilNode(Process process, Path log, String rpcUrl) {
        this.process = process;
        this.log = log;
        this.rpcUrl = rpcUrl;
        this.http = new HttpService(rpcUrl);
        this.web3j = Web3j.build(http);
        this.accounts = devAccounts();
    }

    public static AnvilNode start() throws IOException, InterruptedException {
        if (!Files.isExecutable(ANVIL)) {
            throw new IllegalStateException(ANVIL.toAbsolutePath() + " is missing: the Maven build installs it (npm ci)");
        }
        int port = freePort();
        Path log = Scratch.file("anvil-", ".log");
        Process process = new ProcessBuilder(ANVIL.toString(), "--host", "127.0.0.1", "--port", String.valueOf(port),
                "--chain-id", String.valueOf(CHAIN_ID), "--accounts", String.valueOf(ACCOUNT_COUNT), "--silent")
                .redirectErrorStream(true).redirectOutput(log.toFile()).start();
        AnvilNode node = new AnvilNode(process, log, "http://127.0.0.1:" + port);
        try {
            node.awaitChainId();
        } catch (RuntimeException | InterruptedException e) {
            node.close();
            throw e;
        }
        return node;
    }

    public String rpcUrl() {
        return rpcUrl;
    }

    public Web3j web3j() {
        return web3j;
    }

    /** The raw JSON-RPC connection, for methods web3j has no wrapper for (anvil's evm_* and debug_*). */
    public HttpService http() {
        return http;
    }

    /** Dev account {@code index} (0..9), funded with ETH for gas. */
    public Credentials account(int index) {
        return accounts.get(index);
    }

    /** Moves the chain's clock forward and mines a block, so the next transaction sees the new time. */
    public void increaseTime(long seconds) throws IOException {
        rpc("evm_increaseTime", List.of(seconds));
        rpc("evm_mine", List.of());
    }

    /** Fixes the timestamp of the next block, for checks that must land on an exact second. */
    public void setNextBlockTimestamp(long epochSeconds) throws IOException {
        rpc("evm_setNextBlockTimestamp", List.of(epochSeconds));
    }

    @Override
    public void close() throws InterruptedException {
        web3j.shutdown();
        process.destroy();
        if (!process.waitFor(10, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
        try {
            Files.deleteIfExists(log);
        } catch (IOException ignored) {
            // A leftover temp file is harmless; a failed close must not hide the test's own result.
        }
    }

    private void awaitChainId() throws InterruptedException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("anvil exited with " + process.exitValue() + ":\n" + log());
            }
            try {
                BigInteger chainId = web3j.ethChainId().send().getChainId();
                if (chainId.longValueExact() != CHAIN_ID) {
                    throw new IllegalStateException("anvil answered chain id " + chainId + ", not " + CHAIN_ID);
                }
                return;
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        throw new IllegalStateException("anvil did not answer eth_chainId within " + START_TIMEOUT + ":\n" + log());
    }

    private void rpc(String method, List<Object> params) throws IOException {
        RawResponse response = new Request<>(method, params, http, RawResponse.class).send();
        if (response.hasError()) {
            throw new IOException(method + " failed: " + response.getError().getMessage());
        }
    }

    private String log() {
        try {
            return Files.readString(log, StandardCharsets.UTF_8);
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    /** The accounts anvil funds: BIP-44 m/44'/60'/0'/0/i of its default mnemonic. */
    private static List<Credentials> devAccounts() {
        Bip32ECKeyPair master = Bip32ECKeyPair.generateKeyPair(MnemonicUtils.generateSeed(DEV_MNEMONIC, ""));
        int hardened = Bip32ECKeyPair.HARDENED_BIT;
        return IntStream.range(0, ACCOUNT_COUNT)
                .mapToObj(i -> Bip32ECKeyPair.deriveKeyPair(master, new int[] {44 | hardened, 60 | hardened, hardened, 0, i}))
                .map(Credentials::create)
                .toList();
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** evm_* methods answer numbers or strings that nothing here reads; only an error matters. */
    public static final class RawResponse extends Response<Object> {
    }
}
