package dev.gpubroker.payments;

/** What a pay call ends in: a payment (new or replayed; submitted, confirmed or failed on chain) or a refusal. */
public sealed interface PayOutcome {

    record Accepted(Payment payment, boolean replayed) implements PayOutcome {
    }

    record Refused(Reason reason, String message, String field, String nextStep) implements PayOutcome {
    }

    enum Reason {
        RESERVATION_NOT_FOUND,
        NOT_PAYABLE,
        ALREADY_PAID,
        PAYMENT_IN_PROGRESS,
        IDEMPOTENCY_KEY_REUSED,
        SIGNATURE_REQUIRED,
        INVALID_AUTHORIZATION,
        INSUFFICIENT_USDC,
        CHAIN_REFUSED,
        AGENT_FROZEN,
        KILL_SWITCH
    }
}
