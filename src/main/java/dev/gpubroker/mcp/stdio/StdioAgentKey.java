package dev.gpubroker.mcp.stdio;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.core.env.Environment;
import org.springframework.stereotype.Component;

import dev.gpubroker.bootstrap.EmbeddedDefaults;
import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.identity.AgentService;
import dev.gpubroker.mcp.McpServerFactory;
import reactor.core.publisher.Mono;

/**
 * The agent a stdio process acts for: the key in GPUBROKER_AGENT_KEY, or, with embedded defaults and no key set, the
 * demo agent's key file. Checked once the application is up, so that a missing, malformed or unknown key is said on
 * stderr at start, in one line, and not first discovered by a tool call. The server keeps serving either way: a
 * client that exits at once shows its user only "server disconnected", while every tool call answering
 * {@code unauthenticated} with the variable to set puts the fix in front of the model and the user.
 */
@Component
public class StdioAgentKey {

    private static final Logger log = LoggerFactory.getLogger(StdioAgentKey.class);

    private final McpServerFactory factory;
    private final AgentService agents;
    private final Environment environment;
    private final BrokerProperties properties;

    public StdioAgentKey(McpServerFactory factory, AgentService agents, Environment environment,
            BrokerProperties properties) {
        this.factory = factory;
        this.agents = agents;
        this.environment = environment;
        this.properties = properties;
    }

    /** Finds and checks the key, says on stderr what it found, and hands the application to the server. */
    public Mono<Void> attachTo(StdioServer server) {
        String key = agentKey();
        Mono<Void> checked = key == null ? Mono.empty() : agents.authenticate(key)
                .doOnNext(agent -> log.info("Acting as agent {} ({})", agent.agentId(), agent.name()))
                .switchIfEmpty(Mono.fromRunnable(() -> log.warn("{} is not the API key of any agent of this server (data "
                        + "directory {}): every tool call will answer 'unauthenticated'. Set it to a key the admin API "
                        + "gave out (POST /admin/v1/agents, or rotate one), or unset it to act as the demo agent",
                        StdioServer.AGENT_KEY_VARIABLE, properties.dataDir().toAbsolutePath().normalize())))
                .then();
        return checked.then(Mono.fromRunnable(() -> server.started(factory, agents, key)));
    }

    private String agentKey() {
        String key = environment.getProperty(StdioServer.AGENT_KEY_VARIABLE);
        if (key != null && !key.isBlank()) {
            log.info("Agent key taken from {}", StdioServer.AGENT_KEY_VARIABLE);
            return key.strip();
        }
        Path demoKey = properties.dataDir().resolve(EmbeddedDefaults.DEMO_AGENT_KEY_FILE).toAbsolutePath().normalize();
        if (properties.embeddedDefaults() && Files.isReadable(demoKey)) {
            try {
                log.info("{} is not set: acting as the demo agent (key file {})", StdioServer.AGENT_KEY_VARIABLE, demoKey);
                return Files.readString(demoKey, StandardCharsets.UTF_8).strip();
            } catch (IOException e) {
                log.warn("Could not read {}: {}", demoKey, e.toString());
            }
        }
        log.warn("{} is not set and there is no demo agent key ({}): every tool call will answer 'unauthenticated'. Set "
                + "it to an agent's API key", StdioServer.AGENT_KEY_VARIABLE, demoKey);
        return null;
    }
}
