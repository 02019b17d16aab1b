package dev.gpubroker.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

import tools.jackson.core.type.TypeReference;
import tools.jackson.databind.json.JsonMapper;

/**
 * docs/tools.md carries tables generated from tool-schemas/ (the tools, and every error code a tool may answer);
 * this test fails when the docs and the schemas drift apart.
 * Regenerate with {@code mvn test -Dtest=ToolDocsTest -Dgpubroker.updateSnapshots=true}.
 */
class ToolDocsTest {

    static final Path DOC = Path.of("docs/tools.md");
    static final String BEGIN = "<!-- generated from tool-schemas/ by ToolDocsTest: begin -->";
    static final String END = "<!-- generated from tool-schemas/ by ToolDocsTest: end -->";

    @Test
    void theToolTableInTheDocsMatchesTheSchemas() throws IOException {
        String document = Files.readString(DOC, StandardCharsets.UTF_8);
        int begin = document.indexOf(BEGIN);
        int end = document.indexOf(END);
        assertThat(begin).as("markers in " + DOC).isNotNegative();
        assertThat(end).isGreaterThan(begin);
        String expected = BEGIN + "\n" + table() + END;

        if (Boolean.getBoolean("gpubroker.updateSnapshots")) {
            document = document.substring(0, begin) + expected + document.substring(end + END.length());
            Files.writeString(DOC, document, StandardCharsets.UTF_8);
        }
        String generated = document.substring(document.indexOf(BEGIN), document.indexOf(END) + END.length());
        assertThat(generated)
                .as("docs/tools.md is out of date; regenerate with -Dgpubroker.updateSnapshots=true")
                .isEqualTo(expected);
    }

    @SuppressWarnings("unchecked")
    private static String table() throws IOException {
        JsonMapper json = JsonMapper.builder().build();
        StringBuilder table = new StringBuilder("| tool | title | required input | optional input | read-only | idempotent |\n")
                .append("| --- | --- | --- | --- | --- | --- |\n");
        List<Path> files;
        try (var listing = Files.list(Path.of("tool-schemas"))) {
            files = listing.filter(file -> file.toString().endsWith(".json")).sorted().toList();
        }
        for (Path file : files) {
            Map<String, Object> tool = json.readValue(file.toFile(), new TypeReference<Map<String, Object>>() { });
            Map<String, Object> input = (Map<String, Object>) tool.get("inputSchema");
            Map<String, Object> annotations = (Map<String, Object>) tool.get("annotations");
            List<String> required = (List<String>) input.getOrDefault("required", List.of());
            List<String> optional = new ArrayList<>(((Map<String, Object>) input.get("properties")).keySet());
            optional.removeAll(required);
            table.append("| `").append(tool.get("name")).append("` | ").append(tool.get("title")).append(" | ")
                    .append(codeList(required)).append(" | ").append(codeList(optional)).append(" | ")
                    .append(yesNo(annotations.get("readOnlyHint"))).append(" | ")
                    .append(yesNo(annotations.get("idempotentHint"))).append(" |\n");
        }
        table.append("\n| error code | tools | when |\n| --- | --- | --- |\n");
        new java.util.TreeMap<>(ToolError.COMMON_CODES).forEach((code, when) ->
                table.append("| `").append(code).append("` | any | ").append(when).append(" |\n"));
        java.util.SortedMap<String, java.util.SortedMap<String, List<String>>> byCode = new java.util.TreeMap<>();
        for (Path file : files) {
            Map<String, Object> tool = json.readValue(file.toFile(), new TypeReference<Map<String, Object>>() { });
            for (Map<String, String> error : (List<Map<String, String>>) tool.get("errors")) {
                byCode.computeIfAbsent(error.get("code"), code -> new java.util.TreeMap<>())
                        .computeIfAbsent(error.get("when"), when -> new ArrayList<>()).add((String) tool.get("name"));
            }
        }
        byCode.forEach((code, whens) -> whens.forEach((when, tools) -> table.append("| `").append(code).append("` | ")
                .append(codeList(tools)).append(" | ").append(when).append(" |\n")));
        return table.toString();
    }

    private static String codeList(List<String> names) {
        return names.isEmpty() ? "—" : String.join(", ", names.stream().map(name -> "`" + name + "`").toList());
    }

    private static String yesNo(Object flag) {
        return Boolean.TRUE.equals(flag) ? "yes" : "no";
    }
}
