package dev.gpubroker.mcp;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.util.Map;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.json.JsonMapper;

/** cancel takes exactly one of jobId and reservationId; its schema says so, and a refusal names the argument. */
class ExactlyOneOfArgumentsTest {

    private final JsonMapper json = JsonMapper.builder().build();
    private final ToolContract cancel = new ToolContractCatalog(json).contracts().stream()
            .filter(contract -> contract.name().equals("cancel")).findFirst().orElseThrow();
    private final ToolArgumentValidator validator = new ToolArgumentValidator(json);

    ExactlyOneOfArgumentsTest() throws IOException {
    }

    @Test
    void neitherIdIsRefusedNamingTheFirstToGive() {
        ToolError error = validator.validate(cancel, Map.of("idempotencyKey", "cancel-none-1")).orElseThrow();

        assertThat(error.code()).isEqualTo("invalid_argument");
        assertThat(error.field()).isEqualTo("jobId");
        assertThat(error.message()).contains("exactly one of jobId, reservationId").contains("none was given");
    }

    @Test
    void bothIdsAreRefusedNamingTheOneToDrop() {
        ToolError error = validator.validate(cancel, Map.of("idempotencyKey", "cancel-both-1", "jobId", "job_1",
                "reservationId", "res_1")).orElseThrow();

        assertThat(error.field()).isEqualTo("reservationId");
        assertThat(error.message()).contains("were both given");
    }

    @Test
    void oneIdIsAccepted() {
        assertThat(validator.validate(cancel, Map.of("idempotencyKey", "cancel-one-1", "jobId", "job_1"))).isEmpty();
        assertThat(validator.validate(cancel, Map.of("idempotencyKey", "cancel-one-2", "reservationId", "res_1"))).isEmpty();
    }
}
