package dev.gpubroker.mcp.http;

import io.modelcontextprotocol.common.McpTransportContext;

import dev.gpubroker.identity.Agent;
import dev.gpubroker.identity.AgentService;
import dev.gpubroker.mcp.CallerResolver;
import reactor.core.publisher.Mono;

/**
 * On HTTP the bearer key was checked by the /mcp security chain ({@link McpSecurity}); the agent id comes with the
 * call, and each session belongs to the agent that opened it ({@link McpSessions}).
 */
final class HttpCallerResolver implements CallerResolver {

    private final AgentService agents;
    private final McpSessions sessions;

    HttpCallerResolver(AgentService agents, McpSessions sessions) {
        this.agents = agents;
        this.sessions = sessions;
    }

    @Override
    public Mono<Agent> resolve(McpTransportContext context) {
        Object agentId = context == null ? null : context.get(McpHttpConfiguration.AGENT_ID_ATTRIBUTE);
        return agentId instanceof String id ? agents.find(id) : Mono.empty();
    }

    @Override
    public Mono<Agent> resolveSession(String sessionId) {
        return Mono.justOrEmpty(sessions.ownerOf(sessionId)).flatMap(agents::find);
    }

    @Override
    public String unauthenticatedHint() {
        return "send the agent API key as 'Authorization: Bearer <key>'";
    }
}
