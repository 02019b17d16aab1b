package dev.gpubroker.audit;

import java.time.Instant;

/**
 * One line of the audit log: who did what, with which arguments (secrets redacted), and how it ended. {@code calls}:
 * how many identical reads the line stands for (queued for the same group commit; {@code at} is the first's), 1 for
 * every other line.
 */
public record AuditEntry(long auditId, Instant at, String actorType, String actorId, String action, String arguments,
        String outcome, String detail, int calls) {
}
