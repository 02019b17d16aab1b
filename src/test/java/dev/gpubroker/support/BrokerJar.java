package dev.gpubroker.support;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The packaged jar, started as a real process the way a user starts it. */
public final class BrokerJar implements AutoCloseable {

    private final Process process;
    private final Path dataDir;
    private final Path log;
    private final int port;

    private BrokerJar(Process process, Path dataDir, Path log, int port) {
        this.process = process;
        this.dataDir = dataDir;
        this.log = log;
        this.port = port;
    }

    public static Path jar() {
        Path jar = Path.of(System.getProperty("gpubroker.jar", "target/gpu-broker.jar")).toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException(jar + " is missing: these tests run after 'mvn package' (mvn verify)");
        }
        return jar;
    }

    public static String java() {
        return ProcessHandle.current().info().command().orElse("java");
    }

    public static Path newDataDir() {
        return Scratch.directory("gpubroker-it-");
    }

    /** Starts the HTTP server on a free loopback port and waits until it accepts connections. */
    public static BrokerJar startHttp(Path dataDir, String... extraArgs) throws IOException, InterruptedException {
        return startHttp(dataDir, java.util.Map.of(), extraArgs);
    }

    /** The same, with extra environment variables for the server process (a PATH, say). */
    public static BrokerJar startHttp(Path dataDir, java.util.Map<String, String> environment, String... extraArgs)
            throws IOException, InterruptedException {
        return startHttpIn(null, dataDir, environment, extraArgs);
    }

    /**
     * The same, started in {@code workingDirectory} (null: this process's), with GPUBROKER_DATA_DIR and nothing else of
     * GPU Broker's in its environment but {@code environment}: keystores, password and chain all default to their
     * places under the data directory.
     */
    public static BrokerJar startHttpIn(Path workingDirectory, Path dataDir, Map<String, String> environment,
            String... extraArgs) throws IOException, InterruptedException {
        return startHttpOf(jar(), workingDirectory, dataDir, environment, extraArgs);
    }

    /** The same, of another build's jar than {@link #jar()} (a benchmark comparing two builds). */
    public static BrokerJar startHttpOf(Path jar, Path workingDirectory, Path dataDir, Map<String, String> environment,
            String... extraArgs) throws IOException, InterruptedException {
        int port = freePort();
        List<String> command = new ArrayList<>(List.of(java(), "-jar", jar.toString(), "--server.port=" + port));
        command.addAll(List.of(extraArgs));
        Path log = dataDir.resolve("server.log");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        if (workingDirectory != null) {
            builder.directory(workingDirectory.toFile());
        }
        onlyGpuBrokerSettings(builder.environment(), dataDir, environment);
        BrokerJar started = new BrokerJar(builder.start(), dataDir, log, port);
        try {
            started.awaitPort(Duration.ofSeconds(60));
        } catch (RuntimeException | InterruptedException notUp) {
            // A server that did not come up in time must not outlive the test (nor keep its anvil running).
            started.close();
            throw notUp;
        }
        return started;
    }

    /** The environment of a started jar: this process's, less every GPUBROKER_ variable, plus the data directory. */
    public static void onlyGpuBrokerSettings(Map<String, String> target, Path dataDir, Map<String, String> environment) {
        target.keySet().removeIf(name -> name.startsWith("GPUBROKER_"));
        target.put("GPUBROKER_DATA_DIR", dataDir.toString());
        target.putAll(environment);
    }

    public int port() {
        return port;
    }

    /** The server's process, for what the operating system says of it (CPU time, say). */
    public ProcessHandle processHandle() {
        return process.toHandle();
    }

    public String mcpUrl() {
        return "http://127.0.0.1:" + port + "/mcp";
    }

    public Path dataDir() {
        return dataDir;
    }

    public String log() throws IOException {
        return Files.readString(log, StandardCharsets.UTF_8);
    }

    /** The demo agent's key, which the first start writes once the server is up. */
    public String demoAgentKey() throws IOException, InterruptedException {
        Path keyFile = dataDir.resolve("demo-agent.key");
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!Files.isRegularFile(keyFile)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("no demo-agent.key after 30 s; server log:\n" + log());
            }
            Thread.sleep(100);
        }
        return Files.readString(keyFile, StandardCharsets.UTF_8).strip();
    }

    private void awaitPort(Duration timeout) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the server exited with " + process.exitValue() + ":\n" + log());
            }
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                Thread.sleep(200);
            }
        }
        throw new IllegalStateException("the server did not open port " + port + " within " + timeout + ":\n" + log());
    }

    /** SIGTERM, as a service manager stops it; true when it exited within the timeout. */
    public boolean stop(Duration timeout) throws InterruptedException {
        process.destroy();
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** SIGKILL: the server gets no chance to clean up, as in a crash. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(20, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(20, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }

    /** Runs a command to its end and returns its exit code and output. */
    public static Result run(List<String> command, Map<String, String> environment, Duration timeout)
            throws IOException, InterruptedException {
        return run(null, command, environment, timeout);
    }

    /** The same, in {@code workingDirectory} (null: this process's). */
    public static Result run(Path workingDirectory, List<String> command, Map<String, String> environment,
            Duration timeout) throws IOException, InterruptedException {
        Path output = Scratch.file("gpubroker-cmd-", ".out");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(output.toFile());
        if (workingDirectory != null) {
            builder.directory(workingDirectory.toFile());
        }
        builder.environment().putAll(environment);
        Process process = builder.start();
        process.getOutputStream().close();
        if (!process.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException(command + " did not finish within " + timeout + ":\n"
                    + Files.readString(output, StandardCharsets.UTF_8));
        }
        return new Result(process.exitValue(), Files.readString(output, StandardCharsets.UTF_8));
    }

    public record Result(int exitCode, String output) {
    }
}
