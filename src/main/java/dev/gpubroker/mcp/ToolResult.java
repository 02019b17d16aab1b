package dev.gpubroker.mcp;

import java.util.Map;

/** What a tool handler answers: structured output conforming to the tool's outputSchema, or an error. */
public sealed interface ToolResult {

    record Success(Map<String, Object> output) implements ToolResult {
    }

    record Failure(ToolError error) implements ToolResult {
    }

    static ToolResult success(Map<String, Object> output) {
        return new Success(output);
    }

    static ToolResult failure(ToolError error) {
        return new Failure(error);
    }
}
