package dev.gpubroker.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.json.JsonMapper;

/**
 * The validator remembers small argument objects it found valid (agents poll with the same ones): what it remembers must
 * never let through what the schema refuses.
 */
class RememberedValidArgumentsTest {

    private final JsonMapper json = JsonMapper.builder().build();
    private final ToolContractCatalog catalog = new ToolContractCatalog(json);
    private final ToolArgumentValidator validator = new ToolArgumentValidator(json);

    RememberedValidArgumentsTest() throws IOException {
    }

    private ToolContract tool(String name) {
        return catalog.contracts().stream().filter(contract -> contract.name().equals(name)).findFirst().orElseThrow();
    }

    @Test
    void theSameValidArgumentsAreValidAgainAndAnUnequalOneIsCheckedAnew() {
        ToolContract status = tool("job_status");

        assertThat(validator.validate(status, Map.of("jobId", "job_1"))).isEmpty();
        assertThat(validator.validate(status, new HashMap<>(Map.of("jobId", "job_1")))).isEmpty();

        ToolError tooLong = validator.validate(status, Map.of("jobId", "j".repeat(65))).orElseThrow();
        assertThat(tooLong.field()).isEqualTo("jobId");
        assertThat(validator.validate(status, Map.of("jobId", 1))).isPresent();
        assertThat(validator.validate(status, Map.of("jobId", "job_1", "extra", "x"))).isPresent();
    }

    @Test
    void argumentsChangedByTheirCallerAfterPassingAreCheckedAsTheyAreNow() {
        ToolContract status = tool("job_status");
        // "__" and "a!" have the same hash code: a remembered map changed in place would still be found, and match.
        assertThat("__".hashCode()).isEqualTo("a!".hashCode());
        Map<String, Object> arguments = new HashMap<>(Map.of("jobId", "__"));
        assertThat(validator.validate(status, arguments)).isEmpty();

        arguments.put("jobId", "a!");

        ToolError error = validator.validate(status, arguments).orElseThrow();
        assertThat(error.field()).isEqualTo("jobId");
        assertThat(validator.validate(status, Map.of("jobId", "__"))).isEmpty();
    }

    @Test
    void argumentsValidForOneToolAreCheckedForAnother() {
        assertThat(validator.validate(tool("job_status"), Map.of("jobId", "job_3"))).isEmpty();

        assertThat(validator.validate(tool("account"), Map.of("jobId", "job_3"))).isPresent();
        assertThat(validator.validate(tool("account"), Map.of())).isEmpty();
        assertThat(validator.validate(tool("account"), null)).isEmpty();
    }
}
