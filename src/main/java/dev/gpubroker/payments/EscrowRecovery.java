package dev.gpubroker.payments;

import java.time.Clock;
import java.time.Duration;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;

import dev.gpubroker.lifecycle.PeriodicSweep;
import dev.gpubroker.payments.chain.EscrowDeposit;
import dev.gpubroker.scheduler.Reservation;
import dev.gpubroker.scheduler.ReservationState;
import dev.gpubroker.scheduler.Reservations;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Finishes escrow work that a crash or a refusing node interrupted, from the database and the chain: a paid
 * reservation someone asked to cancel gets its refund decided; a refund that was decided but has no transaction on its
 * way is submitted (once the escrow confirms the deposit is still there); and a paid reservation past its escrow deadline is checked for a reclaim by its payer ({@link Reclaims}).
 */
@Component
class EscrowRecovery extends PeriodicSweep {

    private static final Logger log = LoggerFactory.getLogger(EscrowRecovery.class);
    private static final Duration SWEEP_INTERVAL = Duration.ofSeconds(2);
    private static final int BATCH_SIZE_MAX = 100;

    private final Reservations reservations;
    private final EscrowSubmissions submissions;
    private final RefundService refunds;
    private final EscrowState escrow;
    private final Reclaims reclaims;
    private final Clock clock;

    EscrowRecovery(Reservations reservations, EscrowSubmissions submissions, RefundService refunds,
            EscrowState escrow, Reclaims reclaims, Clock clock) {
        super("Escrow recovery", SWEEP_INTERVAL);
        this.reservations = reservations;
        this.submissions = submissions;
        this.refunds = refunds;
        this.escrow = escrow;
        this.reclaims = reclaims;
        this.clock = clock;
    }

    @Override
    public Mono<Void> sweep() {
        return Flux.defer(() -> reservations.findInState(ReservationState.REFUNDING, BATCH_SIZE_MAX))
                .concatMap(reservation -> submissions.findLive(reservation.reservationId(), EscrowOperation.REFUND_PURPOSE)
                        .hasElement()
                        .flatMap(inFlight -> inFlight ? Mono.<Void>empty() : submitDecidedRefund(reservation))
                        .onErrorResume(error -> skip(reservation, error)))
                .thenMany(Flux.defer(() -> reservations.findPaidCancelRequested(BATCH_SIZE_MAX)))
                .concatMap(reservation -> refunds.refundUnused(reservation, "it was cancelled (taken up again)").then()
                        .onErrorResume(error -> skip(reservation, error)))
                .thenMany(Flux.defer(() -> reservations.findPaidPastEscrowDeadline(clock.instant().getEpochSecond(),
                        BATCH_SIZE_MAX)))
                .concatMap(reservation -> reclaims.recordIfReclaimed(reservation).then()
                        .onErrorResume(error -> skip(reservation, error)))
                .then();
    }

    private Mono<Void> submitDecidedRefund(Reservation reservation) {
        return escrow.of(reservation.reservationId()).flatMap(deposit -> {
            if (deposit.isOpen()) {
                return submissions.submit(new EscrowOperation.Refund(reservation))
                        .filter(EscrowSubmission.Submitted.class::isInstance)
                        .doOnNext(sent -> log.warn("Refund of reservation {} was decided but not on its way: submitted {}",
                                reservation.reservationId(), sent.transaction().hash()))
                        .then();
            }
            if (deposit.state() == EscrowDeposit.State.RECLAIMED) {
                return reclaims.recordIfReclaimed(reservation).then();
            }
            log.error("Reservation {} is refunding but the escrow says its deposit is {}: the operator should look "
                    + "(reconciliation shows the difference)", reservation.reservationId(), deposit.state());
            return Mono.empty();
        });
    }

    private Mono<Void> skip(Reservation reservation, Throwable error) {
        log.warn("Escrow recovery of reservation {} failed, retrying on the next pass: {}", reservation.reservationId(),
                error.toString());
        return Mono.empty();
    }
}
