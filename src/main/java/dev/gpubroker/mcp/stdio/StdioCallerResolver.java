package dev.gpubroker.mcp.stdio;

import io.modelcontextprotocol.common.McpTransportContext;

import dev.gpubroker.identity.Agent;
import dev.gpubroker.identity.AgentService;
import dev.gpubroker.mcp.CallerResolver;
import reactor.core.publisher.Mono;

/**
 * On stdio one process serves one agent: the key given at start (GPUBROKER_AGENT_KEY) identifies every call. The
 * agents and the key are known once the application is up; the server answers before that, so both come as a promise.
 */
final class StdioCallerResolver implements CallerResolver {

    /** The application's agents and the key this process acts with (null: none). */
    record Binding(AgentService agents, String apiKey) {
    }

    private final Mono<Binding> binding;

    StdioCallerResolver(Mono<Binding> binding) {
        this.binding = binding;
    }

    @Override
    public Mono<Agent> resolve(McpTransportContext context) {
        return binding.flatMap(bound -> bound.apiKey() == null ? Mono.empty() : bound.agents().authenticate(bound.apiKey()));
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
