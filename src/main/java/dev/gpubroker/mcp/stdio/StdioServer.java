package dev.gpubroker.mcp.stdio;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

import io.modelcontextprotocol.server.McpAsyncServer;
import io.modelcontextprotocol.server.transport.StdioServerTransportProvider;

import dev.gpubroker.bootstrap.EmbeddedDefaults;
import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.identity.AgentService;
import dev.gpubroker.mcp.McpServerFactory;

/**
 * MCP over stdio ({@code --stdio}): JSON-RPC messages on stdin and stdout, and nothing else on stdout (logs go to
 * stderr). Serves until stdin closes. The agent key comes from GPUBROKER_AGENT_KEY; with embedded defaults and no
 * key set, the demo agent's key file is used, and the log says so.
 */
@Component
public class StdioServer {

    public static final String AGENT_KEY_VARIABLE = "GPUBROKER_AGENT_KEY";
    private static final Logger log = LoggerFactory.getLogger(StdioServer.class);

    private final McpServerFactory factory;
    private final AgentService agents;
    private final Environment environment;
    private final BrokerProperties properties;

    public StdioServer(McpServerFactory factory, AgentService agents, Environment environment,
            BrokerProperties properties) {
        this.factory = factory;
        this.agents = agents;
        this.environment = environment;
        this.properties = properties;
    }

    /** Blocks the calling (main) thread until stdin reaches its end, then closes the server. */
    public void serveUntilInputEnds(InputStream in, OutputStream out) throws InterruptedException {
        CountDownLatch inputEnded = new CountDownLatch(1);
        InputStream watched = new FilterInputStream(in) {
            @Override
            public int read() throws IOException {
                int value = super.read();
                if (value < 0) {
                    inputEnded.countDown();
                }
                return value;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                int count = super.read(buffer, offset, length);
                if (count < 0) {
                    inputEnded.countDown();
                }
                return count;
            }
        };
        StdioServerTransportProvider transport = new StdioServerTransportProvider(factory.jsonMapper(), watched, out);
        McpAsyncServer server = factory.create(transport, new StdioCallerResolver(agents, agentKey()));
        log.info("GPU Broker serving MCP over stdio");
        inputEnded.await();
        log.info("stdin closed; stopping");
        server.close();
    }

    private String agentKey() {
        String key = environment.getProperty(AGENT_KEY_VARIABLE);
        if (key != null && !key.isBlank()) {
            log.info("Agent key taken from {}", AGENT_KEY_VARIABLE);
            return key.strip();
        }
        Path demoKey = properties.dataDir().resolve(EmbeddedDefaults.DEMO_AGENT_KEY_FILE);
        if (properties.embeddedDefaults() && Files.isReadable(demoKey)) {
            try {
                log.info("{} is not set: acting as the demo agent (key file {})", AGENT_KEY_VARIABLE,
                        demoKey.toAbsolutePath());
                return Files.readString(demoKey, StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                log.warn("Could not read {}: {}", demoKey.toAbsolutePath(), e.toString());
            }
        }
        log.warn("{} is not set and there is no demo agent key: every tool call will answer 'unauthenticated'",
                AGENT_KEY_VARIABLE);
        return null;
    }
}
