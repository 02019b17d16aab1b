package dev.gpubroker.mcp;

import io.modelcontextprotocol.common.McpTransportContext;

import dev.gpubroker.identity.Agent;
import reactor.core.publisher.Mono;

/** Who is calling: each transport has its own way to say it (bearer key on HTTP, environment on stdio). */
public interface CallerResolver {

    /** The calling agent, or empty when the call carries no valid agent key. */
    Mono<Agent> resolve(McpTransportContext context);

    /**
     * The agent a session belongs to, or empty when the session is unknown: server-initiated messages about an agent's
     * affairs (resource updates) go only to that agent's sessions.
     */
    Mono<Agent> resolveSession(String sessionId);

    /** What to tell a caller that could not be identified. */
    String unauthenticatedHint();
}
