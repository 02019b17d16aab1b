package dev.gpubroker.audit;

import java.time.Instant;

/** One line of the audit log: who did what, with which arguments (secrets redacted), and how it ended. */
public record AuditEntry(long auditId, Instant at, String actorType, String actorId, String action, String arguments,
        String outcome, String detail) {
}
