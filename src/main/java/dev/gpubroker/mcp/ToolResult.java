package dev.gpubroker.mcp;

import java.util.Map;

/** What a tool handler answers: structured output conforming to the tool's outputSchema, or an error. */
public sealed interface ToolResult {

    /** {@code meta}: the result's {@code _meta} (e.g. an x402 settlement under {@code x402/payment-response}). */
    record Success(Map<String, Object> output, Map<String, Object> meta) implements ToolResult {

        public Success {
            meta = meta == null ? Map.of() : meta;
        }
    }

    record Failure(ToolError error) implements ToolResult {
    }

    /**
     * A call that needs an x402 payment (x402 MCP transport v2): {@code paymentRequired} is the x402 PaymentRequired
     * object; {@code error} says the same for a model, with the tool's usual error fields.
     */
    record PaymentRequired(Map<String, Object> paymentRequired, ToolError error) implements ToolResult {
    }

    static ToolResult success(Map<String, Object> output) {
        return new Success(output, Map.of());
    }

    static ToolResult success(Map<String, Object> output, Map<String, Object> meta) {
        return new Success(output, meta);
    }

    static ToolResult failure(ToolError error) {
        return new Failure(error);
    }
}
