package dev.gpubroker.mcp;

import dev.gpubroker.identity.Agent;
import reactor.core.publisher.Mono;

/**
 * Maps one tool's arguments to an application service call and its answer to the tool's output. No business rules
 * here. Arguments have already been validated against the tool's inputSchema when {@link #handle} runs.
 */
public interface ToolHandler {

    /** The tool name; there must be a {@code tool-schemas/<name>.json} for it, and the other way round. */
    String name();

    Mono<ToolResult> handle(Agent caller, ToolArguments arguments);

    /** A tool that reports progress overrides this; the others ignore the channel. */
    default Mono<ToolResult> handle(Agent caller, ToolArguments arguments, ProgressChannel progress) {
        return handle(caller, arguments);
    }
}
