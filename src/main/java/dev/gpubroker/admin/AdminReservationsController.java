package dev.gpubroker.admin;


import org.springframework.http.HttpStatus;
import org.springframework.http.ResponseEntity;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestParam;
import org.springframework.web.bind.annotation.RestController;

import dev.gpubroker.ledger.Ledger;
import dev.gpubroker.jobs.CancelOutcome;
import dev.gpubroker.jobs.ReservationCancellation;
import dev.gpubroker.scheduler.Reservation;
import dev.gpubroker.scheduler.ReservationService;
import dev.gpubroker.scheduler.ReservationState;
import dev.gpubroker.ledger.LedgerLine;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/** Reservations of every agent, for the operator, and an agent's ledger lines. */
@RestController
class AdminReservationsController {

    record ReservationView(String reservationId, String agentId, String status, String provider, String offerId,
            int gpuCount, int durationMinutes, String amount, String createdAt, String holdExpiresAt, String paymentId,
            String statusReason) {

        static ReservationView of(Reservation reservation) {
            return new ReservationView(reservation.reservationId(), reservation.agentId(), reservation.state().wireName(),
                    reservation.provider(), reservation.offerId(), reservation.gpuCount(), reservation.durationMinutes(),
                    reservation.amount().toDecimalString(), reservation.createdAt().toString(),
                    reservation.holdExpiresAt().toString(), reservation.paymentId(), reservation.stateReason());
        }
    }

    record CancelView(String reservationId, String status, String refund, String refundTx) {
    }

    record LedgerLineView(String entryId, String account, String direction, String amount, String reservationId,
            String txHash, Integer logIndex, String reason, String createdAt) {

        static LedgerLineView of(LedgerLine line) {
            return new LedgerLineView(line.entryId(), line.account(), line.direction(),
                    dev.gpubroker.money.Usdc.ofMicros(line.amountMicros()).toDecimalString(), line.reservationId(),
                    line.txHash(), line.logIndex() < 0 ? null : line.logIndex(), line.reason(),
                    line.createdAt().toString());
        }
    }

    private final ReservationService reservations;
    private final ReservationCancellation cancellation;
    private final Ledger ledger;

    AdminReservationsController(ReservationService reservations, ReservationCancellation cancellation, Ledger ledger) {
        this.reservations = reservations;
        this.cancellation = cancellation;
        this.ledger = ledger;
    }

    @GetMapping(AdminRoutes.PREFIX + "/reservations")
    Flux<ReservationView> list(@RequestParam(required = false) String agentId, @RequestParam(required = false) String status,
            @RequestParam(defaultValue = "50") int limit, @RequestParam(defaultValue = "0") int offset) {
        Paging.check(limit, offset);
        ReservationState state;
        try {
            state = status == null ? null : ReservationState.fromWireName(status);
        } catch (IllegalArgumentException e) {
            throw new AdminProblems.InvalidField("status", "status is one of held, approval_required, paid, refunding, "
                    + "running, settled, refunded, expired, cancelled");
        }
        return reservations.list(agentId, state, limit, offset).map(ReservationView::of);
    }

    @GetMapping(AdminRoutes.PREFIX + "/reservations/{reservationId}")
    Mono<ReservationView> get(@PathVariable String reservationId) {
        return existing(reservationId).map(ReservationView::of);
    }

    /**
     * Held or awaiting approval: cancelled at once (200). Paid: the whole deposit is refunded through the escrow (202);
     * a deposit still confirming is refunded once it confirms (202). Running: its job is stopped and billed for what it
     * used (202). Already closed, or its refund already decided: 409. The same decision as the agent's cancel tool
     * ({@link ReservationCancellation}).
     */
    @PostMapping(AdminRoutes.PREFIX + "/reservations/{reservationId}/cancel")
    Mono<ResponseEntity<CancelView>> cancel(@PathVariable String reservationId) {
        return existing(reservationId).flatMap(reservation -> cancellation.cancel(reservation, "the operator"))
                .flatMap(outcome -> switch (outcome) {
                    case CancelOutcome.Released released -> Mono.just(ResponseEntity.ok(new CancelView(reservationId,
                            released.reservation().state().wireName(), "none needed", null)));
                    case CancelOutcome.Refunding refunding when refunding.earlier() -> Mono.error(new AdminProblems.Conflict(
                            "a refund of reservation " + reservationId + " is already in flight"));
                    case CancelOutcome.Refunding refunding -> Mono.just(ResponseEntity.status(HttpStatus.ACCEPTED)
                            .body(new CancelView(reservationId, refunding.reservation().state().wireName(),
                                    refunding.refundTx() == null ? "decided" : "submitted", refunding.refundTx())));
                    case CancelOutcome.RefundAfterPayment paying -> Mono.just(ResponseEntity.status(HttpStatus.ACCEPTED)
                            .body(new CancelView(reservationId, paying.reservation().state().wireName(),
                                    "after the payment confirms", null)));
                    case CancelOutcome.JobStopping stopping -> Mono.just(ResponseEntity.status(HttpStatus.ACCEPTED)
                            .body(new CancelView(reservationId, stopping.reservation().state().wireName(),
                                    "what the job did not use, once it stopped", null)));
                    case CancelOutcome.AlreadyClosed closed -> Mono.error(new AdminProblems.Conflict("reservation "
                            + reservationId + " is " + closed.reservation().state().wireName() + " and cannot be cancelled"));
                });
    }

    @GetMapping(AdminRoutes.PREFIX + "/agents/{agentId}/ledger")
    Flux<LedgerLineView> ledger(@PathVariable String agentId, @RequestParam(defaultValue = "50") int limit,
            @RequestParam(defaultValue = "0") int offset) {
        Paging.check(limit, offset);
        return ledger.linesOfAgent(agentId, limit, offset).map(LedgerLineView::of);
    }

    private Mono<Reservation> existing(String reservationId) {
        return reservations.find(reservationId)
                .switchIfEmpty(Mono.error(new AdminProblems.NotFound("no reservation " + reservationId)));
    }

}
