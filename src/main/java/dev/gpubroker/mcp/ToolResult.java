package dev.gpubroker.mcp;

import java.util.Map;

/** What a tool handler answers: structured output conforming to the tool's outputSchema, or an error. */
public sealed interface ToolResult {

    /**
     * {@code meta}: the result's {@code _meta} (e.g. an x402 settlement under {@code x402/payment-response}).
     * {@code repeated}: the handler answers this very {@code output} object again, unchanged, for as long as what it shows
     * is unchanged ({@link #repeated}), so that its JSON need be written only once.
     */
    record Success(Map<String, Object> output, Map<String, Object> meta, boolean repeated) implements ToolResult {

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
        return new Success(output, Map.of(), false);
    }

    static ToolResult success(Map<String, Object> output, Map<String, Object> meta) {
        return new Success(output, meta, false);
    }

    /**
     * A success whose {@code output} the handler keeps and answers again while nothing it shows changed: it must never
     * be modified after this (nested maps and lists included). Its JSON is written at its first answer and reused
     * ({@link ToolRegistry}).
     */
    static ToolResult repeated(Map<String, Object> output) {
        return new Success(output, Map.of(), true);
    }

    static ToolResult failure(ToolError error) {
        return new Failure(error);
    }
}
