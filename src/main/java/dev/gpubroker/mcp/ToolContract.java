package dev.gpubroker.mcp;

import java.util.Map;
import java.util.Objects;

/**
 * One tool as declared in {@code tool-schemas/<name>.json}: the contract clients and handlers are held to.
 * {@code errors}: the codes it may answer with {@code isError} (code → when), beside {@link ToolError#COMMON_CODES}.
 */
public record ToolContract(
        String name,
        String title,
        String description,
        Map<String, Object> inputSchema,
        Map<String, Object> outputSchema,
        Map<String, Object> annotations,
        Map<String, String> errors) {

    public ToolContract {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(title, "title");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(inputSchema, "inputSchema");
        Objects.requireNonNull(outputSchema, "outputSchema");
        Objects.requireNonNull(annotations, "annotations");
        errors = Map.copyOf(errors);
    }

    /** Whether this tool may answer the error code: its own ({@code errors} in its schema file) or a common one. */
    public boolean declares(String errorCode) {
        return errors.containsKey(errorCode) || ToolError.COMMON_CODES.containsKey(errorCode);
    }

    public boolean hint(String annotation) {
        return Boolean.TRUE.equals(annotations.get(annotation));
    }
}
