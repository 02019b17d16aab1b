package dev.gpubroker.scheduler;

/**
 * What one of {@link Reservations}' steps did. Each step is conditional on the state it starts from, so that of two
 * parts racing to move one reservation (a refund and a job start, a settlement and a cancel) exactly one moves it and
 * the other learns it came second and changed nothing.
 */
public sealed interface ReservationMove {

    /** This call made the step. */
    record Moved(String reservationId, ReservationState to) implements ReservationMove {
    }

    /** The reservation was not where the step starts (another step came first, or it closed): nothing changed. */
    record Unchanged(String reservationId, String step) implements ReservationMove {
    }

    default boolean moved() {
        return this instanceof Moved;
    }
}
