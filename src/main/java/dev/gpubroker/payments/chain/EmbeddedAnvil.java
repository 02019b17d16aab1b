package dev.gpubroker.payments.chain;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import dev.gpubroker.config.PrivateFiles;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded development chain: anvil from the npm package, on a free loopback port, its state in
 * {@code <data>/chain/anvil-state.json} (dumped every second and at exit) so balances and contracts survive a restart.
 */
public final class EmbeddedAnvil implements AutoCloseable {

    public static final long CHAIN_ID = 31337;
    /** anvil's first development account: funded with test ETH, used only to deploy and to fund on this dev chain. */
    public static final String DEV_FUNDER_PRIVATE_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
    static final Path BINARY = Path.of("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");
    private static final Logger log = LoggerFactory.getLogger(EmbeddedAnvil.class);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final Process process;
    private final int port;

    private EmbeddedAnvil(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /** Starts anvil and waits until its port accepts connections. Blocking: called once at start-up. */
    public static EmbeddedAnvil start(Path dataDir, java.time.Duration blockTime) throws IOException, InterruptedException {
        Path binary = locateBinary();
        PrivateFiles.dataDirectory(dataDir);
        Path chainDir = PrivateFiles.directory(dataDir.resolve("chain"));
        stopLeftoverFrom(chainDir.resolve("anvil.pid"));
        int port = freePort();
        Path stateFile = chainDir.resolve("anvil-state.json");
        List<String> command = new java.util.ArrayList<>(List.of(binary.toString(), "--host", "127.0.0.1", "--port",
                Integer.toString(port), "--chain-id", Long.toString(CHAIN_ID), "--state", stateFile.toString(),
                "--state-interval", "1", "--silent"));
        if (blockTime.isPositive()) {
            command.addAll(List.of("--block-time", Long.toString(Math.max(1, blockTime.toSeconds()))));
        }
        Process process = new ProcessBuilder(command)
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(chainDir.resolve("anvil.log").toFile()))
                .start();
        Files.writeString(chainDir.resolve("anvil.pid"), Long.toString(process.pid()));
        EmbeddedAnvil anvil = new EmbeddedAnvil(process, port);
        anvil.awaitPort();
        log.info("Embedded chain: anvil on http://127.0.0.1:{} (chain id {}), state in {}", port, CHAIN_ID, stateFile);
        return anvil;
    }

    public String rpcUrl() {
        return "http://127.0.0.1:" + port;
    }

    /**
     * A server killed with SIGKILL cannot stop its anvil; the next start does, so that two nodes never write one
     * state file.
     */
    private static void stopLeftoverFrom(Path pidFile) throws IOException, InterruptedException {
        try {
            stopLeftover(pidFile);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new IOException("could not stop the anvil left by an earlier run", e);
        }
    }

    private static void stopLeftover(Path pidFile) throws IOException, InterruptedException, java.util.concurrent.ExecutionException, java.util.concurrent.TimeoutException {
        if (!Files.isRegularFile(pidFile)) {
            return;
        }
        long pid = Long.parseLong(Files.readString(pidFile).strip());
        var leftover = ProcessHandle.of(pid)
                .filter(handle -> handle.info().command().map(command -> command.endsWith("anvil")).orElse(false));
        if (leftover.isPresent()) {
            log.warn("Stopping anvil (pid {}) left running by an earlier server that did not shut down", pid);
            leftover.get().destroy();
            leftover.get().onExit().get(10, TimeUnit.SECONDS);
        }
    }

    /**
     * anvil from the project's node_modules: beside the working directory, or beside the jar's project when the jar is
     * started from elsewhere (Claude Desktop starts it from its own directory).
     */
    private static Path locateBinary() {
        List<Path> candidates = new java.util.ArrayList<>();
        candidates.add(BINARY.toAbsolutePath());
        try {
            Path codeSource = Path.of(EmbeddedAnvil.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (Path dir = codeSource.getParent(); dir != null; dir = dir.getParent()) {
                candidates.add(dir.resolve(BINARY));
            }
        } catch (Exception notAFile) {
            // Nested jar URLs (java -jar) are not file paths; the jar's own path comes from the class path below.
        }
        for (String entry : System.getProperty("java.class.path", "").split(java.io.File.pathSeparator)) {
            if (entry.endsWith(".jar")) {
                for (Path dir = Path.of(entry).toAbsolutePath().getParent(); dir != null; dir = dir.getParent()) {
                    candidates.add(dir.resolve(BINARY));
                }
            }
        }
        return candidates.stream().filter(Files::isExecutable).findFirst()
                .orElseThrow(() -> new IllegalStateException("anvil is not installed (looked for " + BINARY + " from "
                        + Path.of("").toAbsolutePath() + " and from the jar's folder): run the build once in the project "
                        + "(it installs the Node dev tools), or set gpubroker.chain.mode=rpc with gpubroker.chain.rpc-url"));
    }

    private void awaitPort() throws InterruptedException, IOException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("anvil exited at start with code " + process.exitValue()
                        + "; see chain/anvil.log in the data directory");
            }
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                Thread.sleep(50);
            }
        }
        close();
        throw new IOException("anvil did not open port " + port + " within " + START_TIMEOUT);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }

    /** Stops anvil gracefully (it writes its state on SIGTERM), then forcibly if it does not stop. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
            log.info("Embedded chain stopped");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
