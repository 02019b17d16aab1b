package dev.gpubroker.mcp;

/**
 * A failure an agent can act on, returned as a tool result with {@code isError: true}: a stable code, a message,
 * the argument at fault when there is one, and what to do next.
 */
public record ToolError(String code, String message, String field, String nextStep) {

    /** The codes any tool may answer, beside those its schema declares under {@code errors}. */
    public static final java.util.Map<String, String> COMMON_CODES = java.util.Map.of(
            "unauthenticated", "The call carries no valid agent API key.",
            "invalid_argument", "An argument does not match the tool's inputSchema; the field names it.",
            "internal_error", "The server failed to handle the call (a bug or an infrastructure fault); nothing was charged: retry.",
            "server_starting", "Over stdio, while the server starts: the call waited 90 s for the database and chain; retry in a moment.",
            "server_unavailable", "Over stdio: the server could not start (keystores missing, the data directory used by another server); the message says why.");

    public static ToolError invalidArgument(String field, String message) {
        return new ToolError("invalid_argument", message, field, "correct " + (field == null ? "the arguments" : field)
                + " and call again; the tool's inputSchema lists what is accepted");
    }
}
