package dev.gpubroker.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import io.modelcontextprotocol.json.schema.jackson3.DefaultJsonSchemaValidator;

import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/** The rules every tool in tool-schemas/ follows, checked on the files themselves. */
class ToolContractTest {

    private static final JsonMapper JSON = JsonMapper.builder().build();
    private static final Path TOOL_SCHEMAS = Path.of("tool-schemas");

    static Stream<Path> toolFiles() throws IOException {
        return Files.list(TOOL_SCHEMAS).filter(file -> file.toString().endsWith(".json")).sorted();
    }

    @ParameterizedTest
    @MethodSource("toolFiles")
    void everyInputSchemaIsStrictJsonSchema202012WithBoundsOnEveryValue(Path file) throws IOException {
        Map<String, Object> tool = read(file);
        @SuppressWarnings("unchecked")
        Map<String, Object> input = (Map<String, Object>) tool.get("inputSchema");

        assertThat(input).containsEntry("$schema", "https://json-schema.org/draft/2020-12/schema")
                .containsEntry("additionalProperties", false);
        assertThat(new DefaultJsonSchemaValidator(JSON).validateSchema(input).valid()).isTrue();
        List<String> unbounded = new ArrayList<>();
        collectUnbounded("", input, unbounded);
        assertThat(unbounded).as("values without bounds in " + file).isEmpty();
    }

    @ParameterizedTest
    @MethodSource("toolFiles")
    void everyToolIsFullyDescribedAndAnnotated(Path file) throws IOException {
        Map<String, Object> tool = read(file);

        assertThat(file.getFileName().toString()).isEqualTo(tool.get("name") + ".json");
        assertThat((String) tool.get("title")).isNotBlank();
        assertThat((String) tool.get("description")).hasSizeGreaterThan(200);
        assertThat(tool.get("outputSchema")).isNotNull();
        assertThat(tool.get("annotations")).asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.MAP)
                .containsKeys("readOnlyHint", "destructiveHint", "idempotentHint", "openWorldHint");
    }

    @ParameterizedTest
    @MethodSource("toolFiles")
    @SuppressWarnings("unchecked")
    void everyMutatingToolRequiresAnIdempotencyKey(Path file) throws IOException {
        Map<String, Object> tool = read(file);
        @SuppressWarnings("unchecked")
        Map<String, Object> annotations = (Map<String, Object>) tool.get("annotations");
        @SuppressWarnings("unchecked")
        Map<String, Object> input = (Map<String, Object>) tool.get("inputSchema");

        if (Boolean.FALSE.equals(annotations.get("readOnlyHint"))) {
            assertThat((List<Object>) input.get("required")).contains("idempotencyKey");
            assertThat(annotations).containsEntry("idempotentHint", true);
        }
    }

    @Test
    void quoteIsReadOnlyAndIdempotent() throws IOException {
        assertThat(read(TOOL_SCHEMAS.resolve("quote.json")).get("annotations"))
                .asInstanceOf(org.assertj.core.api.InstanceOfAssertFactories.MAP)
                .containsEntry("readOnlyHint", true).containsEntry("idempotentHint", true)
                .containsEntry("destructiveHint", false);
    }

    /** Numbers need a minimum and a maximum, strings a length bound or an enum, arrays a maxItems. */
    @SuppressWarnings("unchecked")
    private static void collectUnbounded(String path, Map<String, Object> schema, List<String> unbounded) {
        Object type = schema.get("type");
        if ("integer".equals(type) || "number".equals(type)) {
            if (!schema.containsKey("minimum") || !schema.containsKey("maximum")) {
                unbounded.add(path + " (number without minimum and maximum)");
            }
        } else if ("string".equals(type)) {
            if (!schema.containsKey("maxLength") && !schema.containsKey("enum")) {
                unbounded.add(path + " (string without maxLength)");
            }
        } else if ("array".equals(type)) {
            if (!schema.containsKey("maxItems")) {
                unbounded.add(path + " (array without maxItems)");
            }
            collectUnbounded(path + "[]", (Map<String, Object>) schema.get("items"), unbounded);
        } else if ("object".equals(type) && schema.get("properties") instanceof Map<?, ?> properties) {
            for (var property : ((Map<String, Object>) properties).entrySet()) {
                collectUnbounded(path + "." + property.getKey(), (Map<String, Object>) property.getValue(), unbounded);
            }
        }
    }

    private static Map<String, Object> read(Path file) throws IOException {
        return JSON.readValue(file.toFile(), new TypeReference<Map<String, Object>>() { });
    }
}
