package dev.gpubroker.jobs;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

import dev.gpubroker.payments.RefundService;
import dev.gpubroker.payments.RefundService.UnusedRefund;
import dev.gpubroker.scheduler.Reservation;
import dev.gpubroker.scheduler.ReservationService;
import reactor.core.publisher.Mono;

/**
 * The one place where a reservation is cancelled, for an agent (the {@code cancel} tool) and for the operator alike.
 *
 * <p>A cancel races whatever else may move the reservation: a {@code run} claiming it, a deposit confirming, a payment
 * failing. So the cancel is first recorded on the reservation, and only then acted upon from the state read after
 * that mark. Every racing step checks the mark after its own move ({@code run} refuses a marked reservation; a
 * deposit that confirms on a marked reservation is refunded; a payment that fails on one cancels it), and every move is
 * a conditional update, so each interleaving ends in exactly one of: cancelled unpaid, refunded in full, or its job
 * stopped and billed for what it used — never a refund of a reservation whose job runs.
 */
@Service
public class ReservationCancellation {

    private static final Logger log = LoggerFactory.getLogger(ReservationCancellation.class);
    /** A state read can go stale once per racing actor; more rounds than that means a bug, not a race. */
    private static final int ROUNDS_MAX = 4;

    private final ReservationService reservations;
    private final RefundService refunds;
    private final JobService jobs;

    public ReservationCancellation(ReservationService reservations, RefundService refunds, JobService jobs) {
        this.reservations = reservations;
        this.refunds = refunds;
        this.jobs = jobs;
    }

    /** Cancels the reservation on behalf of {@code by} ("its agent", "the operator"). */
    public Mono<CancelOutcome> cancel(Reservation reservation, String by) {
        return reservations.requestCancel(reservation.reservationId())
                .then(Mono.defer(() -> act(reservation.reservationId(), by, 1)));
    }

    private Mono<CancelOutcome> act(String reservationId, String by, int round) {
        if (round > ROUNDS_MAX) {
            return Mono.error(new IllegalStateException("reservation " + reservationId + " kept changing during a cancel"));
        }
        return reservations.find(reservationId)
                .switchIfEmpty(Mono.error(new IllegalStateException("reservation " + reservationId + " vanished")))
                .flatMap(current -> switch (current.state()) {
                    case HELD, APPROVAL_REQUIRED -> current.paymentId() != null
                            ? Mono.just((CancelOutcome) new CancelOutcome.RefundAfterPayment(current))
                            : reservations.cancelUnpaid(current, by).flatMap(cancelled -> cancelled.moved()
                                    ? reread(reservationId).map(CancelOutcome.Released::new)
                                    : act(reservationId, by, round + 1));
                    case PAID -> refunds.refundUnused(current, "cancelled by " + by).flatMap(refund -> switch (refund) {
                        case UnusedRefund.Submitted submitted -> reread(reservationId)
                                .map(now -> (CancelOutcome) new CancelOutcome.Refunding(now, submitted.transaction().hash(), false));
                        case UnusedRefund.Decided decided -> reread(reservationId)
                                .map(now -> (CancelOutcome) new CancelOutcome.Refunding(now, null, false));
                        case UnusedRefund.NotRefundable notRefundable -> act(reservationId, by, round + 1);
                    });
                    case REFUNDING -> Mono.just(new CancelOutcome.Refunding(current, null, true));
                    case RUNNING -> jobs.findByReservation(reservationId)
                            .switchIfEmpty(Mono.error(new IllegalStateException("reservation " + reservationId
                                    + " is running without a job")))
                            .flatMap(jobs::cancel)
                            .map(job -> (CancelOutcome) new CancelOutcome.JobStopping(current, job));
                    case SETTLED, REFUNDED, EXPIRED, CANCELLED -> Mono.just(new CancelOutcome.AlreadyClosed(current));
                    case PENDING_HOLD -> Mono.error(new IllegalStateException("a pending reservation is never visible"));
                })
                .doOnNext(outcome -> log.info("Cancel of reservation {} by {}: {}", reservationId, by,
                        outcome.getClass().getSimpleName()));
    }

    private Mono<Reservation> reread(String reservationId) {
        return reservations.find(reservationId);
    }
}
