package dev.gpubroker.payments;

import java.time.Instant;
import java.util.Locale;
import java.util.Objects;

import dev.gpubroker.money.Usdc;

/** A payment of one reservation into the escrow, as persisted. */
public record Payment(
        String paymentId,
        String reservationId,
        String agentId,
        String idempotencyKey,
        Method method,
        Usdc amount,
        String payer,
        String payee,
        long escrowDeadline,
        String authorizationNonce,
        Status status,
        String txHash,
        String failureReason,
        Instant createdAt,
        Instant updatedAt) {

    /** CUSTODIAL: the server signed for the agent's wallet. SIGNED_BY_AGENT: the agent sent its own EIP-3009 signature. */
    /**
     * CUSTODIAL: the server signed with the wallet it holds. SIGNED_BY_AGENT: the agent signed a
     * ReceiveWithAuthorization bound to the escrow terms. SIGNED_TRANSFER: the agent signed a TransferWithAuthorization
     * to the escrow, as stock x402 clients do (the server binds it to the reservation; docs/payments.md).
     */
    public enum Method { CUSTODIAL, SIGNED_BY_AGENT, SIGNED_TRANSFER }

    /**
     * PENDING: written, the transaction not yet handed to the node. SUBMITTED: broadcast, not yet confirmed (pending is
     * not paid). CONFIRMED: the deposit has its confirmations; the reservation is paid. FAILED: nothing moved.
     */
    public enum Status {
        PENDING, SUBMITTED, CONFIRMED, FAILED;

        public String wireName() {
            return this == PENDING ? "submitted" : name().toLowerCase(Locale.ROOT);
        }
    }

    public Payment {
        Objects.requireNonNull(paymentId, "paymentId");
        Objects.requireNonNull(reservationId, "reservationId");
        Objects.requireNonNull(amount, "amount");
        Objects.requireNonNull(status, "status");
        if (amount.isZero()) {
            throw new IllegalArgumentException("a payment moves a positive amount");
        }
    }
}
