package dev.gpubroker.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.modelcontextprotocol.spec.McpSchema;

import dev.gpubroker.support.BrokerIntegrationTest;
import tools.jackson.databind.SerializationFeature;
import tools.jackson.databind.json.JsonMapper;

/**
 * The whole tools/list answer, as a client receives it, against a committed snapshot. Any change of the tool
 * contract shows up as a diff here. After an intended change, regenerate with:
 * {@code mvn test -Dtest=ToolsListSnapshotTest -Dgpubroker.updateSnapshots=true}
 */
class ToolsListSnapshotTest extends BrokerIntegrationTest {

    static final Path SNAPSHOT = Path.of("src/test/resources/snapshots/tools-list.json");

    @Test
    void toolsListMatchesTheCommittedSnapshot() throws Exception {
        List<McpSchema.Tool> tools = client(newAgent("snapshotter").apiKey()).listTools().tools();
        JsonMapper canonical = JsonMapper.builder()
                .enable(SerializationFeature.INDENT_OUTPUT)
                .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS)
                .build();
        String actual = canonical.writeValueAsString(json.readTree(json.writeValueAsString(tools))) + "\n";

        if (Boolean.getBoolean("gpubroker.updateSnapshots")) {
            Files.createDirectories(SNAPSHOT.getParent());
            Files.writeString(SNAPSHOT, actual, StandardCharsets.UTF_8);
        }
        assertThat(SNAPSHOT).as("snapshot missing: run with -Dgpubroker.updateSnapshots=true").exists();
        assertThat(actual)
                .as("tools/list changed; if intended, regenerate with -Dgpubroker.updateSnapshots=true and commit the diff")
                .isEqualTo(Files.readString(SNAPSHOT, StandardCharsets.UTF_8));
    }
}
