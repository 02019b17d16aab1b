package dev.gpubroker.mcp;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

import org.springframework.stereotype.Component;

import dev.gpubroker.memo.BoundedMemo;
import dev.gpubroker.memo.PlainArguments;

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

    /** 2^63: doubles at or beyond it do not fit a long. */
    private static final double LONG_RANGE = 0x1p63;
    private static final int REMEMBERED_CALLS_MAX = 4_096;

    private final JsonMapper json;
    private final SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12);
    private final Map<String, Schema> schemasByTool = new ConcurrentHashMap<>();
    /**
     * Small argument objects found valid lately, by tool: agents poll with the same arguments again and again
     * ({@code job_status} with its {@code jobId}, {@code account} with none), and whether arguments are valid depends
     * on the tool's schema and the arguments alone, so an equal object is valid again without the schema engine, which
     * took about 5 of the 200 µs a polled read costs (HotPathBenchmark's recording). Only valid ones are kept (every
     * refusal is worked out and worded anew), copied, and only of plain values ({@link PlainArguments}).
     */
    private final BoundedMemo<ValidCall, Boolean> recentlyValid = new BoundedMemo<>(REMEMBERED_CALLS_MAX);

    private record ValidCall(String tool, Map<String, Object> arguments) {
    }

    public ToolArgumentValidator(JsonMapper json) {
        this.json = json;
    }

    public Optional<ToolError> validate(ToolContract contract, Map<String, Object> arguments) {
        Map<String, Object> given = arguments == null ? Map.of() : arguments;
        boolean rememberable = PlainArguments.isPlain(given);
        if (rememberable && recentlyValid.get(new ValidCall(contract.name(), given)) != null) {
            return Optional.empty();
        }
        Schema schema = schemasByTool.computeIfAbsent(contract.name(),
                name -> registry.getSchema(json.valueToTree(contract.inputSchema())));
        JsonNode instance = json.valueToTree(given);
        Optional<ToolError> outOfRange = outOfRangeNumber(instance, "");
        if (outOfRange.isPresent()) {
            return outOfRange;
        }
        List<Error> errors = schema.validate(instance);
        if (errors.isEmpty()) {
            if (rememberable) {
                // A copy: the caller's map is the caller's to change.
                recentlyValid.put(new ValidCall(contract.name(), Map.copyOf(given)), Boolean.TRUE);
            }
            return Optional.empty();
        }
        Error first = errors.getFirst();
        Optional<ToolError> alternatives = exactlyOneOf(contract, first, arguments);
        if (alternatives.isPresent()) {
            return alternatives;
        }
        String field = fieldOf(first);
        String detail = first.getMessage();
        String message = field == null || detail.startsWith(field) ? detail : field + ": " + detail;
        if (errors.size() > 1) {
            message = message + " (and " + (errors.size() - 1) + " more problem(s))";
        }
        return Optional.of(ToolError.invalidArgument(field, message));
    }

    /**
     * A number beyond what a long holds is refused here, naming its field, before the schema check: no tool takes one,
     * and the schema engine fails on it (it compares bounds as longs). JSON has no infinities either, but a number too
     * large for a double (1e400) arrives as one.
     */
    private static Optional<ToolError> outOfRangeNumber(JsonNode node, String path) {
        boolean outOfRange = node.isFloatingPointNumber()
                ? !Double.isFinite(node.doubleValue()) || Math.abs(node.doubleValue()) >= LONG_RANGE
                : node.isIntegralNumber() && !node.canConvertToLong();
        if (outOfRange) {
            String field = path.isEmpty() ? null : path;
            return Optional.of(ToolError.invalidArgument(field, (field == null ? "a number" : field)
                    + " is out of range: send a number of ordinary size"));
        }
        if (node.isContainer()) {
            int index = 0;
            for (var entry : node.properties()) {
                Optional<ToolError> found = outOfRangeNumber(entry.getValue(), join(path, entry.getKey()));
                if (found.isPresent()) {
                    return found;
                }
            }
            for (JsonNode element : node.isArray() ? node.values() : List.<JsonNode>of()) {
                Optional<ToolError> found = outOfRangeNumber(element, join(path, Integer.toString(index++)));
                if (found.isPresent()) {
                    return found;
                }
            }
        }
        return Optional.empty();
    }

    /**
     * A schema whose top-level {@code oneOf} says "exactly one of these arguments" (each branch requiring one name):
     * the refusal names the argument to add (none given) or to drop (more than one), not the whole object.
     */
    @SuppressWarnings("unchecked")
    private static Optional<ToolError> exactlyOneOf(ToolContract contract, Error error, Map<String, Object> arguments) {
        if (!"oneOf".equals(error.getKeyword()) || fieldOf(error) != null
                || !(contract.inputSchema().get("oneOf") instanceof List<?> branches)) {
            return Optional.empty();
        }
        List<String> names = branches.stream()
                .map(branch -> branch instanceof Map<?, ?> map && map.get("required") instanceof List<?> required
                        && required.size() == 1 ? String.valueOf(required.getFirst()) : null)
                .toList();
        if (names.isEmpty() || names.contains(null)) {
            return Optional.empty();
        }
        List<String> given = names.stream().filter(name -> arguments != null && arguments.containsKey(name)).toList();
        String field = given.isEmpty() ? names.getFirst() : given.get(1 % given.size());
        return Optional.of(ToolError.invalidArgument(field, "give exactly one of " + String.join(", ", names)
                + (given.isEmpty() ? "; none was given" : "; " + String.join(" and ", given) + " were both given")));
    }

    private static String join(String path, String name) {
        return path.isEmpty() ? name : path + "." + name;
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
