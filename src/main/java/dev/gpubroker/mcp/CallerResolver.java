package dev.gpubroker.mcp;

import io.modelcontextprotocol.common.McpTransportContext;

import dev.gpubroker.identity.Agent;
import reactor.core.publisher.Mono;

/** Who is calling: each transport has its own way to say it (bearer key on HTTP, environment on stdio). */
public interface CallerResolver {

    /** The calling agent, or empty when the call carries no valid agent key. */
    Mono<Agent> resolve(McpTransportContext context);

    /** What to tell a caller that could not be identified. */
    String unauthenticatedHint();
}
