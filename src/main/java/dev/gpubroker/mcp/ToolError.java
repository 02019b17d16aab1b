package dev.gpubroker.mcp;

/**
 * A failure an agent can act on, returned as a tool result with {@code isError: true}: a stable code, a message,
 * the argument at fault when there is one, and what to do next.
 */
public record ToolError(String code, String message, String field, String nextStep) {

    public static ToolError invalidArgument(String field, String message) {
        return new ToolError("invalid_argument", message, field, "correct " + (field == null ? "the arguments" : field)
                + " and call again; the tool's inputSchema lists what is accepted");
    }
}
