package dev.gpubroker.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Clock;
import java.util.HashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

import tools.jackson.databind.json.JsonMapper;

/**
 * A read's audit line carries its arguments as JSON, which the log remembers for small plain ones (agents poll with the
 * same arguments): the line must always show the arguments as they were at the call, secrets redacted.
 */
class AuditArgumentsJsonTest {

    private final AuditLog audit = new AuditLog(null, null, JsonMapper.builder().build(), Clock.systemUTC());

    private String argumentsOf(Map<String, Object> arguments) {
        return audit.line("agent", "agt_1", "tool:job_status", arguments, "ok", null).arguments();
    }

    @Test
    void equalArgumentsAreWrittenAlikeEachTime() {
        assertThat(argumentsOf(Map.of("jobId", "job_1"))).isEqualTo("{\"jobId\":\"job_1\"}");
        assertThat(argumentsOf(new HashMap<>(Map.of("jobId", "job_1")))).isEqualTo("{\"jobId\":\"job_1\"}");
        assertThat(argumentsOf(Map.of("jobId", "job_2"))).isEqualTo("{\"jobId\":\"job_2\"}");
        assertThat(argumentsOf(Map.of())).isEqualTo("{}");
    }

    @Test
    void argumentsChangedInPlaceAreWrittenAsTheyAreNow() {
        // "__" and "a!" have the same hash code: a remembered map changed in place would still be found, and match.
        Map<String, Object> arguments = new HashMap<>(Map.of("jobId", "__"));
        assertThat(argumentsOf(arguments)).isEqualTo("{\"jobId\":\"__\"}");

        arguments.put("jobId", "a!");

        assertThat(argumentsOf(arguments)).isEqualTo("{\"jobId\":\"a!\"}");
    }

    @Test
    void aSecretIsRedactedEveryTime() {
        for (int call = 0; call < 3; call++) {
            String written = argumentsOf(Map.of("jobId", "job_1", "apiToken", "tok-secret-1"));
            assertThat(written).contains(AuditLog.REDACTED).doesNotContain("tok-secret-1");
        }
    }
}
