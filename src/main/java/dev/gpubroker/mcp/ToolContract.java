package dev.gpubroker.mcp;

import java.util.Map;
import java.util.Objects;

/** One tool as declared in {@code tool-schemas/<name>.json}: the contract clients and handlers are held to. */
public record ToolContract(
        String name,
        String title,
        String description,
        Map<String, Object> inputSchema,
        Map<String, Object> outputSchema,
        Map<String, Object> annotations) {

    public ToolContract {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(title, "title");
        Objects.requireNonNull(description, "description");
        Objects.requireNonNull(inputSchema, "inputSchema");
        Objects.requireNonNull(outputSchema, "outputSchema");
        Objects.requireNonNull(annotations, "annotations");
    }

    public boolean hint(String annotation) {
        return Boolean.TRUE.equals(annotations.get(annotation));
    }
}
