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
import dev.gpubroker.config.StartupRefusal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The embedded development chain: anvil (packed into the jar by the build, see {@link PackagedAnvil}), on a free loopback port, its state in
 * {@code <data>/chain/anvil-state.json} (dumped every second and at exit) so balances and contracts survive a restart.
 */
public final class EmbeddedAnvil implements AutoCloseable {

    /** anvil's own default; {@code gpubroker.chain.chain-id} picks another (e.g. 84532, for x402 v1 clients' names). */
    public static final long CHAIN_ID = 31337;
    /** anvil's first development account: funded with test ETH, used only to deploy and to fund on this dev chain. */
    public static final String DEV_FUNDER_PRIVATE_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
    static final Path BINARY = Path.of("node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil");
    static final String STATE_FILE = "anvil-state.json";
    private static final Logger log = LoggerFactory.getLogger(EmbeddedAnvil.class);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final Process process;
    private final int port;

    private EmbeddedAnvil(Process process, int port) {
        this.process = process;
        this.port = port;
    }

    /**
     * Starts anvil and waits until its port accepts connections. Blocking: called once at start-up. {@code configured}
     * is {@code gpubroker.chain.anvil}: a path to an anvil to run, or empty for the one packed into the jar.
     */
    public static EmbeddedAnvil start(Path dataDir, long chainId, java.time.Duration blockTime, String configured)
            throws IOException, InterruptedException {
        PrivateFiles.dataDirectory(dataDir);
        Path binary = locateBinary(dataDir, configured);
        Path chainDir = PrivateFiles.directory(dataDir.resolve("chain"));
        stopLeftoverFrom(chainDir.resolve("anvil.pid"));
        int port = freePort();
        Path stateFile = chainDir.resolve(STATE_FILE);
        List<String> command = new java.util.ArrayList<>(List.of(binary.toString(), "--host", "127.0.0.1", "--port",
                Integer.toString(port), "--chain-id", Long.toString(chainId), "--state", stateFile.toString(),
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
        log.info("Embedded chain: anvil on http://127.0.0.1:{} (chain id {}), state in {}", port, chainId, stateFile);
        return anvil;
    }

    public String rpcUrl() {
        return "http://127.0.0.1:" + port;
    }

    /**
     * A server killed with SIGKILL cannot stop its anvil; the next start does, so that two nodes never write one state
     * file. Only an orphan is stopped: the data directory's lock says no other GPU Broker runs on it, but an anvil whose
     * Java parent still runs (a GPU Broker from before that lock) belongs to that server, and this start stops instead.
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
        if (leftover.isEmpty()) {
            return;
        }
        var owner = leftover.get().parent().filter(ProcessHandle::isAlive)
                .filter(parent -> parent.pid() != ProcessHandle.current().pid())
                .filter(parent -> parent.info().command().map(command -> command.endsWith("/java")).orElse(false));
        if (owner.isPresent()) {
            throw new StartupRefusal("anvil (pid " + pid + ") runs on this data directory's chain state for the Java "
                    + "process " + owner.get().pid() + ", most likely a GPU Broker started before this one: stop that "
                    + "server first, or give this one its own GPUBROKER_DATA_DIR");
        }
        log.warn("Stopping anvil (pid {}) left running by an earlier server that did not shut down", pid);
        leftover.get().destroy();
        leftover.get().onExit().get(10, TimeUnit.SECONDS);
    }

    /**
     * The anvil to run: the one {@code gpubroker.chain.anvil} names; else the one packed into the jar, unpacked into
     * {@code <data>/bin}; else (a run from an IDE, where the build did not pack one) the project's node_modules.
     */
    private static Path locateBinary(Path dataDir, String configured) throws IOException {
        if (configured != null && !configured.isBlank()) {
            Path binary = Path.of(configured).toAbsolutePath().normalize();
            if (!Files.isRegularFile(binary) || !Files.isExecutable(binary)) {
                throw new StartupRefusal(PackagedAnvil.SETTING + " names " + binary + ", which is not an executable "
                        + "file: point it at an anvil binary, or leave it empty to use the one packed into the jar");
            }
            return binary;
        }
        PackagedAnvil packaged = PackagedAnvil.inThisJar();
        if (packaged != null && PackagedAnvil.runsHere()) {
            return packaged.unpackInto(dataDir.resolve("bin"));
        }
        return nodeModulesBinary().orElseThrow(() -> new StartupRefusal(packaged == null
                ? "this build carries no anvil for the embedded chain (and none is in " + BINARY + "): build the jar with "
                        + "mvn package, set " + PackagedAnvil.SETTING + " to an anvil binary, or use gpubroker.chain.mode=rpc"
                : "the anvil packed into this jar runs on Linux x86-64 only, and this is " + System.getProperty("os.name")
                        + " " + System.getProperty("os.arch") + ": install anvil (https://getfoundry.sh) and set "
                        + PackagedAnvil.SETTING + " to its path, or use gpubroker.chain.mode=rpc"));
    }

    /** anvil from the project's node_modules, beside the working directory or beside the jar's project. */
    private static java.util.Optional<Path> nodeModulesBinary() {
        List<Path> candidates = new java.util.ArrayList<>();
        candidates.add(BINARY.toAbsolutePath());
        try {
            Path codeSource = Path.of(EmbeddedAnvil.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            for (Path dir = codeSource.getParent(); dir != null; dir = dir.getParent()) {
                candidates.add(dir.resolve(BINARY));
            }
        } catch (Exception notAFile) {
            // Nested jar URLs (java -jar) are not file paths; a jar has its anvil packed in anyway.
        }
        return candidates.stream().filter(Files::isExecutable).findFirst();
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
