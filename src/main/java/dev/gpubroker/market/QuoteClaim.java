package dev.gpubroker.market;

/** Whether a reservation took a quote. A quote is taken once, ever: the claim is a conditional update. */
public sealed interface QuoteClaim {

    record Taken(String quoteId, String reservationId) implements QuoteClaim {
    }

    /** Another reservation (or an earlier call with the same key) took it first: nothing changed. */
    record AlreadyTaken(String quoteId) implements QuoteClaim {
    }

    default boolean taken() {
        return this instanceof Taken;
    }
}
