package dev.gpubroker.mcp;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.springframework.core.io.Resource;
import org.springframework.core.io.support.PathMatchingResourcePatternResolver;
import org.springframework.stereotype.Component;

import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * Reads the tool contract from {@code tool-schemas/*.json} (packaged into the jar from the top-level folder).
 * A file whose name differs from its tool's name, or that lacks a part of the contract, stops the server at start.
 */
@Component
public class ToolContractCatalog {

    static final String LOCATION = "classpath*:tool-schemas/*.json";
    private static final java.util.regex.Pattern ERROR_CODE = java.util.regex.Pattern.compile("[a-z]+(_[a-z0-9]+)*");
    private static final Set<String> REQUIRED_ANNOTATIONS =
            Set.of("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint");

    private final List<ToolContract> contracts;

    public ToolContractCatalog(JsonMapper json) throws IOException {
        List<ToolContract> loaded = new ArrayList<>();
        for (Resource resource : new PathMatchingResourcePatternResolver().getResources(LOCATION)) {
            loaded.add(read(json, resource));
        }
        loaded.sort(Comparator.comparing(ToolContract::name));
        this.contracts = List.copyOf(loaded);
    }

    public List<ToolContract> contracts() {
        return contracts;
    }

    private static ToolContract read(JsonMapper json, Resource resource) throws IOException {
        String file = resource.getFilename();
        Map<String, Object> document;
        try (InputStream in = resource.getInputStream()) {
            document = json.readValue(in, new TypeReference<Map<String, Object>>() { });
        }
        String name = (String) document.get("name");
        if (file == null || !file.equals(name + ".json")) {
            throw new IllegalStateException("tool-schemas/" + file + " declares tool '" + name + "': the file must be named "
                    + name + ".json");
        }
        for (String part : List.of("title", "description", "inputSchema", "outputSchema", "annotations")) {
            if (!document.containsKey(part)) {
                throw new IllegalStateException("tool-schemas/" + file + " has no " + part);
            }
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> annotations = (Map<String, Object>) document.get("annotations");
        for (String hint : REQUIRED_ANNOTATIONS) {
            if (!(annotations.get(hint) instanceof Boolean)) {
                throw new IllegalStateException("tool-schemas/" + file + " must set annotations." + hint + " to true or false");
            }
        }
        @SuppressWarnings("unchecked")
        ToolContract contract = new ToolContract(name, (String) document.get("title"), (String) document.get("description"),
                (Map<String, Object>) document.get("inputSchema"), (Map<String, Object>) document.get("outputSchema"),
                annotations, errors(file, document.get("errors")));
        return contract;
    }

    /** {@code errors}: a list of {code, when}; each code snake_case, once, and not one of the common codes. */
    private static Map<String, String> errors(String file, Object declared) {
        if (!(declared instanceof List<?> entries)) {
            throw new IllegalStateException("tool-schemas/" + file + " must list the error codes it answers under errors "
                    + "(an empty list when there are none beyond " + ToolError.COMMON_CODES.keySet() + ")");
        }
        Map<String, String> errors = new java.util.LinkedHashMap<>();
        for (Object entry : entries) {
            if (!(entry instanceof Map<?, ?> error) || !(error.get("code") instanceof String code)
                    || !(error.get("when") instanceof String when) || !ERROR_CODE.matcher(code).matches()
                    || ToolError.COMMON_CODES.containsKey(code) || errors.put(code, when) != null) {
                throw new IllegalStateException("tool-schemas/" + file + ": errors holds {code, when} entries with "
                        + "distinct snake_case codes, not common ones; found " + entry);
            }
        }
        return errors;
    }
}
