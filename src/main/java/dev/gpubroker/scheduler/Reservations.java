package dev.gpubroker.scheduler;

import java.time.Instant;

import org.springframework.stereotype.Component;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The reservation as payments and jobs see it: they read it here and move it here, by named steps (mark it paid, start
 * a job on it, decide its refund, settle it, mark it refunded, move it to another offer), each one conditional update
 * of this package's repository answering a {@link ReservationMove}, so that the reservations table and its state
 * machine ({@link ReservationState}) have one owner. When to take a step (a payment confirmed, a job started or failed
 * over, an escrow reclaimed) is decided by the part that saw it happen; which steps exist, from where, and what each may
 * change, is this package's.
 */
@Component
public class Reservations {

    private final ReservationRepository reservations;

    Reservations(ReservationRepository reservations) {
        this.reservations = reservations;
    }

    public Mono<Reservation> findById(String reservationId) {
        return reservations.findById(reservationId);
    }

    /** PAID → REFUNDING: the refund of the whole deposit is decided, and from now on no job can start on it. */
    public Mono<ReservationMove> decideRefund(String reservationId, String why, Instant at) {
        return step(reservationId, "decide its refund", ReservationState.REFUNDING,
                reservations.transition(reservationId, ReservationState.PAID, ReservationState.REFUNDING,
                        "refund of the whole deposit decided: " + why, at));
    }

    /** RUNNING → SETTLED once the settlement is confirmed on chain. */
    public Mono<ReservationMove> settle(String reservationId, String how, Instant at) {
        return step(reservationId, "settle it", ReservationState.SETTLED,
                reservations.transition(reservationId, ReservationState.RUNNING, ReservationState.SETTLED, how, at));
    }

    /**
     * To REFUNDED, from the state it was read in (refunding, running, or paid when the payer reclaimed the deposit on
     * chain), once the money is back with the payer.
     */
    public Mono<ReservationMove> markRefunded(Reservation read, String how, Instant at) {
        if (!read.state().canMoveTo(ReservationState.REFUNDED)) {
            return Mono.just(new ReservationMove.Unchanged(read.reservationId(), "mark it refunded"));
        }
        return step(read.reservationId(), "mark it refunded", ReservationState.REFUNDED,
                reservations.transition(read.reservationId(), read.state(), ReservationState.REFUNDED, how, at));
    }

    /**
     * Claims a held reservation for one payment; false when it is not held, another payment has it, or it is being
     * cancelled.
     */
    public Mono<ReservationMark> claimForPayment(String reservationId, String paymentId) {
        return reservations.claimForPayment(reservationId, paymentId).map(claimed -> ReservationMark.of(reservationId, claimed));
    }

    /** HELD → PAID for the payment that claimed it. */
    public Mono<ReservationMove> markPaid(String reservationId, String paymentId, Instant at) {
        return step(reservationId, "mark it paid", ReservationState.PAID, reservations.markPaid(reservationId, paymentId, at));
    }

    /** Gives the reservation back after a payment that moved nothing, so it can be paid again or expire. */
    public Mono<Void> releasePaymentClaim(String reservationId, String paymentId) {
        return reservations.releasePaymentClaim(reservationId, paymentId);
    }

    /**
     * PAID → RUNNING for a job, unless someone asked to cancel the reservation first (then its refund wins and no job
     * starts).
     */
    public Mono<ReservationMove> startRunning(String reservationId, String reason, Instant at) {
        return step(reservationId, "start a job on it", ReservationState.RUNNING,
                reservations.startRunning(reservationId, reason, at));
    }

    /**
     * Moves a running reservation to another offer (a failover), from the hold it has now to a new one. False when the
     * reservation is no longer running on that hold (it was cancelled or moved meanwhile).
     */
    public Mono<ReservationMove> moveToOffer(String reservationId, String fromHoldId, String provider, String offerId,
            String holdId, Instant at) {
        return step(reservationId, "move it to offer " + offerId, ReservationState.RUNNING,
                reservations.moveToOffer(reservationId, fromHoldId, provider, offerId, holdId, at));
    }

    private static Mono<ReservationMove> step(String reservationId, String step, ReservationState to, Mono<Boolean> made) {
        return made.map(moved -> moved ? new ReservationMove.Moved(reservationId, to)
                : new ReservationMove.Unchanged(reservationId, step));
    }

    /** Open reservations in one state, oldest change first: for the sweeps that finish what a crash interrupted. */
    public Flux<Reservation> findInState(ReservationState state, int limit) {
        return reservations.findInState(state, limit);
    }

    /** Paid reservations someone asked to cancel whose refund was never decided (a crash between the two steps). */
    public Flux<Reservation> findPaidCancelRequested(int limit) {
        return reservations.findPaidCancelRequested(limit);
    }

    /**
     * Paid reservations whose escrow deadline (from their payment) has passed: from then on the payer may reclaim the
     * deposit on chain, so the broker checks whether it did.
     */
    public Flux<Reservation> findPaidPastEscrowDeadline(long nowEpochSeconds, int limit) {
        return reservations.findPaidPastEscrowDeadline(nowEpochSeconds, limit);
    }
}
