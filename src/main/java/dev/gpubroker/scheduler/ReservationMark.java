package dev.gpubroker.scheduler;

/**
 * What a mark on a reservation that changes no state did: a payment's claim on a held reservation, or a request to
 * cancel it. Both are conditional updates, so of two racing calls exactly one marks it.
 */
public sealed interface ReservationMark {

    record Marked(String reservationId) implements ReservationMark {
    }

    /** Not markable now (not held, claimed by another payment, being cancelled, or closed): nothing changed. */
    record NotMarked(String reservationId) implements ReservationMark {
    }

    default boolean marked() {
        return this instanceof Marked;
    }

    static ReservationMark of(String reservationId, boolean marked) {
        return marked ? new Marked(reservationId) : new NotMarked(reservationId);
    }
}
