package dev.gpubroker.scheduler;

import java.time.Instant;
import java.util.Locale;

import dev.gpubroker.money.Usdc;

/** A person's decision on a reservation above its agent's approval threshold. */
public record Approval(String approvalId, String reservationId, String agentId, Usdc amount, Status status,
        String decidedBy, String reason, Instant createdAt, Instant expiresAt, Instant decidedAt) {

    public enum Status {
        PENDING, APPROVED, DENIED, EXPIRED;

        public String wireName() {
            return name().toLowerCase(Locale.ROOT);
        }
    }
}
