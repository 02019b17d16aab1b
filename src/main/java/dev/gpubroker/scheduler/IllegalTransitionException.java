package dev.gpubroker.scheduler;

/** A programming error: code asked for a move the state machine does not allow. */
public class IllegalTransitionException extends IllegalStateException {

    public IllegalTransitionException(String reservationId, ReservationState from, ReservationState to) {
        super("reservation " + reservationId + " cannot move from " + from + " to " + to);
    }
}
