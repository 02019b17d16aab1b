package dev.gpubroker.mcp.http;

import io.modelcontextprotocol.common.McpTransportContext;

import dev.gpubroker.identity.Agent;
import dev.gpubroker.identity.AgentService;
import dev.gpubroker.mcp.CallerResolver;
import reactor.core.publisher.Mono;

/** On HTTP the bearer key was checked by the /mcp security chain ({@link McpSecurity}); the agent id comes with the call. */
final class HttpCallerResolver implements CallerResolver {

    private final AgentService agents;

    HttpCallerResolver(AgentService agents) {
        this.agents = agents;
    }

    @Override
    public Mono<Agent> resolve(McpTransportContext context) {
        Object agentId = context == null ? null : context.get(McpHttpConfiguration.AGENT_ID_ATTRIBUTE);
        return agentId instanceof String id ? agents.find(id) : Mono.empty();
    }

    @Override
    public String unauthenticatedHint() {
        return "send the agent API key as 'Authorization: Bearer <key>'";
    }
}
