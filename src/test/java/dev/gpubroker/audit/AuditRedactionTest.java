package dev.gpubroker.audit;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class AuditRedactionTest {

    @Test
    void aJobsEnvironmentKeepsItsNamesButNeverItsValues() {
        Map<String, Object> arguments = new LinkedHashMap<>();
        arguments.put("reservationId", "res_1");
        arguments.put("command", List.of("python", "train.py"));
        arguments.put("env", Map.of("OPENAI_API_KEY", "sk-live-secret", "BATCH_SIZE", "64"));

        Map<String, Object> redacted = AuditLog.redact(arguments);

        assertThat(redacted).containsEntry("reservationId", "res_1").containsEntry("command", List.of("python", "train.py"));
        assertThat(redacted.get("env")).isEqualTo(Map.of("OPENAI_API_KEY", AuditLog.REDACTED, "BATCH_SIZE", AuditLog.REDACTED));
        assertThat(redacted.toString()).doesNotContain("sk-live-secret").doesNotContain("64");
    }

    @Test
    void signaturesAndKeysAreRedactedAtAnyDepthButTheIdempotencyKeyIsKept() {
        Map<String, Object> redacted = AuditLog.redact(Map.of("idempotencyKey", "k-1", "authorization",
                Map.of("from", "0xabc"), "nested", Map.of("signature", "0xdeadbeef", "apiKey", "gpk_x")));

        assertThat(redacted).containsEntry("idempotencyKey", "k-1").containsEntry("authorization", AuditLog.REDACTED);
        assertThat(redacted.get("nested")).isEqualTo(Map.of("signature", AuditLog.REDACTED, "apiKey", AuditLog.REDACTED));
    }
}
