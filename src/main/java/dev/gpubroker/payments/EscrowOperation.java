package dev.gpubroker.payments;

import java.math.BigInteger;
import java.util.Objects;
import java.util.Set;

import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.chain.EscrowContract;
import dev.gpubroker.scheduler.Reservation;

/**
 * One call into the escrow that the relayer submits for the broker: a deposit (the agent's authorization moves the
 * reservation's amount into the escrow), a settlement ({@code used} to the seller, the rest back) or a refund (all of it
 * back). Each knows its relayer purpose, the reference its relayer transaction carries and its calldata; they are all
 * submitted through {@link EscrowSubmissions} and their receipts all read by {@link EscrowOutcomes}.
 */
public sealed interface EscrowOperation {

    /** The relayer purposes, as stored with each transaction: they must never change, rows carry them. */
    String DEPOSIT_PURPOSE = "deposit";
    String SETTLE_PURPOSE = "settle";
    String REFUND_PURPOSE = "refund";
    String CREDIT_PURPOSE = "credit";
    /** Its outcome is StrayTransfers', not EscrowOutcomes': it is in no reservation's books. */
    String RETURN_TRANSFER_PURPOSE = "return_transfer";
    /**
     * GpuEscrow.settleBatch: several settlements in one transaction, whose reference is the batch id
     * ({@link SettlementBatcher}); not an operation of its own, since its callers each submit a {@link Settle}.
     */
    String SETTLE_BATCH_PURPOSE = "settle_batch";
    Set<String> PURPOSES = Set.of(DEPOSIT_PURPOSE, SETTLE_PURPOSE, REFUND_PURPOSE, CREDIT_PURPOSE, SETTLE_BATCH_PURPOSE);

    String purpose();

    /** What the relayer transaction refers to: the payment for a deposit, the reservation for the others. */
    String referenceId();

    String reservationId();

    String callData();

    /**
     * A deposit of a payment. Its calldata carries the agent's signed authorization, so the payment flow builds it
     * (a bad signature is refused there, as a value, before anything is sent).
     */
    record Deposit(String paymentId, String reservationId, String callData) implements EscrowOperation {

        public Deposit {
            Objects.requireNonNull(paymentId, "paymentId");
            Objects.requireNonNull(reservationId, "reservationId");
            Objects.requireNonNull(callData, "callData");
        }

        @Override
        public String purpose() {
            return DEPOSIT_PURPOSE;
        }

        @Override
        public String referenceId() {
            return paymentId;
        }
    }

    /**
     * Records as a payment's deposit a stock x402 transfer that someone else submitted straight to the token (its
     * money is in the escrow, attributed to nobody): GpuEscrow.creditTransfer with the payment's own terms and
     * signature. Only after {@link DirectTransfers} has seen that transfer on chain.
     */
    record Credit(String paymentId, String reservationId, String callData) implements EscrowOperation {

        public Credit {
            Objects.requireNonNull(paymentId, "paymentId");
            Objects.requireNonNull(reservationId, "reservationId");
            Objects.requireNonNull(callData, "callData");
        }

        @Override
        public String purpose() {
            return CREDIT_PURPOSE;
        }

        @Override
        public String referenceId() {
            return paymentId;
        }
    }

    /**
     * Sends back to its payer a stock x402 transfer that reached the escrow after its payment had failed
     * (GpuEscrow.returnTransfer), found by {@link StrayTransfers}. It belongs to no reservation.
     */
    record ReturnTransfer(String paymentId, String reservationId, String callData) implements EscrowOperation {

        public ReturnTransfer {
            Objects.requireNonNull(paymentId, "paymentId");
            Objects.requireNonNull(callData, "callData");
        }

        @Override
        public String purpose() {
            return RETURN_TRANSFER_PURPOSE;
        }

        @Override
        public String referenceId() {
            return paymentId;
        }
    }

    /**
     * Settles the reservation's escrow: {@code used} to the seller, the rest of the escrowed amount to the agent. Sent
     * as its own settle transaction, or, with batched settlement on, as a member of a settleBatch.
     */
    record Settle(Reservation reservation, Usdc used) implements EscrowOperation {

        public Settle {
            Objects.requireNonNull(reservation, "reservation");
            Objects.requireNonNull(used, "used");
        }

        @Override
        public String purpose() {
            return SETTLE_PURPOSE;
        }

        @Override
        public String referenceId() {
            return reservation.reservationId();
        }

        @Override
        public String reservationId() {
            return reservation.reservationId();
        }

        @Override
        public String callData() {
            return EscrowContract.settle(EscrowContract.reservationKey(reservation.reservationId()),
                    BigInteger.valueOf(used.micros()));
        }
    }

    /** Returns the reservation's whole deposit to its payer. */
    record Refund(Reservation reservation) implements EscrowOperation {

        public Refund {
            Objects.requireNonNull(reservation, "reservation");
        }

        @Override
        public String purpose() {
            return REFUND_PURPOSE;
        }

        @Override
        public String referenceId() {
            return reservation.reservationId();
        }

        @Override
        public String reservationId() {
            return reservation.reservationId();
        }

        @Override
        public String callData() {
            return EscrowContract.refund(EscrowContract.reservationKey(reservation.reservationId()));
        }
    }
}
