package dev.gpubroker.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import dev.gpubroker.support.Scratch;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.gpubroker.support.BrokerJar;
import dev.gpubroker.support.Chromium;

/**
 * The MCP Inspector's web UI, in a headless Chromium, connects to the packaged jar with an agent key and lists the
 * tools; without the key it does not connect. The browser is driven by src/test/js/inspector-web-ui.mjs
 * (playwright-core, with Debian's chromium).
 */
class InspectorWebUiIT {

    private static final Path SCRIPT = Path.of("src/test/js/inspector-web-ui.mjs");
    private static final Duration INSPECTOR_START_TIMEOUT = Duration.ofSeconds(30);
    private static final Duration BROWSER_TIMEOUT = Duration.ofSeconds(180);

    @BeforeAll
    static void chromiumIsInstalled() {
        Chromium.requireInstalled();
    }

    @Test
    void theInspectorWebUiConnectsWithAnAgentKeyAndListsTheTools() throws Exception {
        try (BrokerJar server = BrokerJar.startHttp(BrokerJar.newDataDir())) {
            String key = server.demoAgentKey();

            BrokerJar.Result withKey;
            try (Inspector inspector = Inspector.start(server.mcpUrl(), "Authorization: Bearer " + key)) {
                withKey = browser(inspector.url(), "connects", "target/inspector-web-ui.png");
            }
            BrokerJar.Result withoutKey;
            try (Inspector inspector = Inspector.start(server.mcpUrl(), null)) {
                withoutKey = browser(inspector.url(), "refused", "target/inspector-web-ui-without-key.png");
            }

            assertThat(withKey.exitCode()).as(withKey.output()).isZero();
            assertThat(withKey.output()).contains("inspector: connected")
                    .contains("tools listed: account, cancel, job_logs, job_status, pay, quote, reserve, run");
            assertThat(withoutKey.exitCode()).as(withoutKey.output()).isZero();
            assertThat(withoutKey.output()).contains("inspector: not connected: Failed, the server answered 401");
            assertThat(server.log()).doesNotContain(key);
        }
    }

    private static BrokerJar.Result browser(String inspectorUrl, String expectation, String screenshot)
            throws IOException, InterruptedException {
        return BrokerJar.run(List.of("node", SCRIPT.toAbsolutePath().toString(), inspectorUrl, expectation,
                Path.of(screenshot).toAbsolutePath().toString()), Map.of(), BROWSER_TIMEOUT);
    }

    /** The Inspector's web server (v2: the UI and its backend on one port), with the server given on its command line. */
    private record Inspector(Process process, Path home, Path log, String url) implements AutoCloseable {

        static Inspector start(String serverUrl, String header) throws IOException, InterruptedException {
            Path launcher = Path.of("node_modules/.bin/mcp-inspector").toAbsolutePath();
            assertThat(launcher).as("node_modules is installed by the Maven build (npm ci)").satisfies(Files::isExecutable);
            List<String> command = new ArrayList<>(List.of(launcher.toString(), "--web", "--transport", "http",
                    "--server-url", serverUrl));
            if (header != null) {
                command.addAll(List.of("--header", header));
            }
            int port = freePort();
            String apiToken = HexFormat.of().formatHex(new SecureRandom().generateSeed(16));
            Path home = Scratch.directory("gpubroker-inspector-");
            Path log = home.resolve("inspector.log");
            ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
            Map<String, String> environment = builder.environment();
            // A loopback port of its own, its sandbox and app origin on ports the system picks, its own token (the
            // Inspector's backend refuses the UI without it), and nothing kept: no browser opened, no secrets written.
            environment.put("HOST", "127.0.0.1");
            environment.put("CLIENT_PORT", Integer.toString(port));
            environment.put("MCP_SANDBOX_PORT", "0");
            environment.put("MCP_APP_ORIGIN_PORT", "0");
            environment.put("MCP_INSPECTOR_API_TOKEN", apiToken);
            environment.put("MCP_AUTO_OPEN_ENABLED", "false");
            environment.put("MCP_INSPECTOR_SECRET_STORE", "memory");
            environment.put("MCP_STORAGE_DIR", home.resolve("storage").toString());
            environment.put("HOME", home.toString());
            environment.remove("DANGEROUSLY_OMIT_AUTH");
            Inspector inspector = new Inspector(builder.start(), home, log,
                    "http://127.0.0.1:" + port + "/?MCP_INSPECTOR_API_TOKEN=" + apiToken);
            try {
                inspector.awaitPort(port);
            } catch (RuntimeException | InterruptedException notUp) {
                inspector.close();
                throw notUp;
            }
            return inspector;
        }

        private void awaitPort(int port) throws IOException, InterruptedException {
            long deadline = System.nanoTime() + INSPECTOR_START_TIMEOUT.toNanos();
            while (System.nanoTime() < deadline) {
                if (!process.isAlive()) {
                    throw new IllegalStateException("the Inspector exited with " + process.exitValue() + ":\n" + logText());
                }
                try (Socket socket = new Socket()) {
                    socket.connect(new InetSocketAddress("127.0.0.1", port), 200);
                    return;
                } catch (IOException notYet) {
                    Thread.sleep(100);
                }
            }
            throw new IllegalStateException("the Inspector did not open port " + port + " within "
                    + INSPECTOR_START_TIMEOUT + ":\n" + logText());
        }

        private String logText() throws IOException {
            return Files.readString(log, StandardCharsets.UTF_8);
        }

        @Override
        public void close() throws InterruptedException {
            // The launcher runs the web server in its own process, but a child it started must not outlive the test.
            List<ProcessHandle> children = process.descendants().toList();
            process.destroy();
            children.forEach(ProcessHandle::destroy);
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
            children.forEach(ProcessHandle::destroyForcibly);
            try (var files = Files.walk(home)) {
                files.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
            } catch (IOException leftBehind) {
                // A temporary directory left behind does no harm.
            }
        }

        private static int freePort() throws IOException {
            try (ServerSocket socket = new ServerSocket(0)) {
                return socket.getLocalPort();
            }
        }
    }
}
