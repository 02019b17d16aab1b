package dev.gpubroker.mcp.stdio;

import io.modelcontextprotocol.common.McpTransportContext;

import dev.gpubroker.identity.Agent;
import dev.gpubroker.identity.AgentService;
import dev.gpubroker.mcp.CallerResolver;
import reactor.core.publisher.Mono;

/** On stdio one process serves one agent: the key given at start (GPUBROKER_AGENT_KEY) identifies every call. */
final class StdioCallerResolver implements CallerResolver {

    private final AgentService agents;
    private final String apiKey;

    StdioCallerResolver(AgentService agents, String apiKey) {
        this.agents = agents;
        this.apiKey = apiKey;
    }

    @Override
    public Mono<Agent> resolve(McpTransportContext context) {
        return apiKey == null ? Mono.empty() : agents.authenticate(apiKey);
    }

    /** stdio has one session, and it is this process's agent's. */
    @Override
    public Mono<Agent> resolveSession(String sessionId) {
        return resolve(McpTransportContext.EMPTY);
    }

    @Override
    public String unauthenticatedHint() {
        return "start the server with the agent API key in the environment variable GPUBROKER_AGENT_KEY";
    }
}
