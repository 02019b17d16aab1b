package dev.gpubroker.scheduler;

import java.time.Instant;

import org.springframework.stereotype.Component;

import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * The reservation as payments and jobs see it: they read it here and move it here, one conditional update of this
 * package's repository at a time (the state machine is {@link ReservationState}), so that the reservations table has
 * one owner. The decisions of when to move (a payment confirmed, a job started or failed over, an escrow reclaimed)
 * are still theirs; the step itself, and what it may change, is this package's.
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

    /** Moves a reservation from one state to another; true when this call made the move. */
    public Mono<Boolean> transition(String reservationId, ReservationState from, ReservationState to, String reason,
            Instant at) {
        return reservations.transition(reservationId, from, to, reason, at);
    }

    /**
     * Claims a held reservation for one payment; false when it is not held, another payment has it, or it is being
     * cancelled.
     */
    public Mono<Boolean> claimForPayment(String reservationId, String paymentId) {
        return reservations.claimForPayment(reservationId, paymentId);
    }

    /** HELD → PAID for the payment that claimed it; true when this call made the move. */
    public Mono<Boolean> markPaid(String reservationId, String paymentId, Instant at) {
        return reservations.markPaid(reservationId, paymentId, at);
    }

    /** Gives the reservation back after a payment that moved nothing, so it can be paid again or expire. */
    public Mono<Void> releasePaymentClaim(String reservationId, String paymentId) {
        return reservations.releasePaymentClaim(reservationId, paymentId);
    }

    /**
     * PAID → RUNNING for a job, unless someone asked to cancel the reservation first (then its refund wins and no job
     * starts). True when this call made the move.
     */
    public Mono<Boolean> startRunning(String reservationId, String reason, Instant at) {
        return reservations.startRunning(reservationId, reason, at);
    }

    /**
     * Moves a running reservation to another offer (a failover), from the hold it has now to a new one. False when the
     * reservation is no longer running on that hold (it was cancelled or moved meanwhile).
     */
    public Mono<Boolean> moveToOffer(String reservationId, String fromHoldId, String provider, String offerId,
            String holdId, Instant at) {
        return reservations.moveToOffer(reservationId, fromHoldId, provider, offerId, holdId, at);
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
