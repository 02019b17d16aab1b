package dev.gpubroker.mcp;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.stereotype.Component;

import com.networknt.schema.Error;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;

import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * Checks a tool call's arguments against the tool's inputSchema (JSON Schema 2020-12) before any handler runs, and
 * turns the first violation into an {@code invalid_argument} error that names the field. Nothing is persisted for
 * a call that fails here.
 */
@Component
public class ToolArgumentValidator {

    private final JsonMapper json;
    private final SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
    private final Map<String, Schema> schemasByTool = new ConcurrentHashMap<>();

    public ToolArgumentValidator(JsonMapper json) {
        this.json = json;
    }

    public Optional<ToolError> validate(ToolContract contract, Map<String, Object> arguments) {
        Schema schema = schemasByTool.computeIfAbsent(contract.name(),
                name -> registry.getSchema(json.valueToTree(contract.inputSchema())));
        JsonNode instance = json.valueToTree(arguments == null ? Map.of() : arguments);
        List<Error> errors = schema.validate(instance);
        if (errors.isEmpty()) {
            return Optional.empty();
        }
        Error first = errors.getFirst();
        String field = fieldOf(first);
        String detail = first.getMessage();
        String message = field == null || detail.startsWith(field) ? detail : field + ": " + detail;
        if (errors.size() > 1) {
            message = message + " (and " + (errors.size() - 1) + " more problem(s))";
        }
        return Optional.of(ToolError.invalidArgument(field, message));
    }

    private static String fieldOf(Error error) {
        String location = error.getInstanceLocation() == null ? "" : error.getInstanceLocation().toString();
        String path = location.replaceFirst("^\\$\\.?", "").replaceFirst("^/", "").replace('/', '.');
        if (("required".equals(error.getKeyword()) || "additionalProperties".equals(error.getKeyword()))
                && error.getProperty() != null) {
            return path.isEmpty() ? error.getProperty() : path + "." + error.getProperty();
        }
        return path.isEmpty() ? null : path;
    }
}
