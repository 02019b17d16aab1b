package dev.gpubroker.scheduler;

/** What a reserve call ends in: a reservation (new or replayed), or a refusal that changed nothing. */
public sealed interface ReserveOutcome {

    record Reserved(Reservation reservation, boolean replayed) implements ReserveOutcome {
    }

    record Refused(Reason reason, String message, String nextStep) implements ReserveOutcome {
    }

    enum Reason {
        QUOTE_NOT_FOUND,
        QUOTE_EXPIRED,
        QUOTE_ALREADY_RESERVED,
        NO_CAPACITY,
        OFFER_UNAVAILABLE,
        PROVIDER_UNAVAILABLE,
        IDEMPOTENCY_KEY_REUSED,
        IN_PROGRESS,
        TOO_MANY_OPEN_RESERVATIONS,
        // The policy's refusals, named after the limit hit (PolicyViolation.Code).
        KILL_SWITCH,
        AGENT_FROZEN,
        PROVIDER_NOT_ALLOWED,
        GPU_NOT_ALLOWED,
        OVER_MAX_PRICE_PER_GPU_HOUR,
        OVER_MAX_PER_RESERVATION,
        OVER_DAILY_LIMIT,
        OVER_TOTAL_LIMIT
    }
}
