package dev.gpubroker.scheduler;

import java.time.Instant;
import java.util.Objects;

import dev.gpubroker.money.Usdc;

/**
 * A reservation as persisted. Its capacity hold at the provider is named by its reservation id, until a failover moves
 * the reservation to another offer under a new hold. {@code cancelRequested}: someone asked to cancel it; from then on
 * it takes no payment and starts no job, and a deposit that still confirms is refunded.
 */
public record Reservation(
        String reservationId,
        String agentId,
        String idempotencyKey,
        String quoteId,
        ReservationState state,
        String provider,
        String offerId,
        int gpuCount,
        Usdc amount,
        Instant createdAt,
        Instant updatedAt,
        Instant holdExpiresAt,
        boolean capacityReleased,
        String stateReason,
        int durationMinutes,
        String paymentId,
        String holdId,
        boolean cancelRequested) {

    public Reservation {
        Objects.requireNonNull(reservationId, "reservationId");
        Objects.requireNonNull(agentId, "agentId");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(amount, "amount");
        if (durationMinutes <= 0) {
            throw new IllegalArgumentException("a reservation's duration is positive");
        }
        if (amount.isZero()) {
            throw new IllegalArgumentException("a reservation's amount is positive");
        }
        if (holdId == null) {
            holdId = reservationId;
        }
    }
}
