package dev.gpubroker.payments;

import java.time.Clock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

import dev.gpubroker.payments.relayer.ChainTransaction;
import dev.gpubroker.payments.relayer.RelayerRefusedException;
import dev.gpubroker.scheduler.Reservation;
import dev.gpubroker.scheduler.ReservationMove;
import dev.gpubroker.scheduler.ReservationState;
import dev.gpubroker.scheduler.Reservations;
import reactor.core.publisher.Mono;

/**
 * Decides to return the whole deposit of a paid reservation that runs no job, and submits the refund
 * ({@link EscrowSubmissions}). The reservation becomes refunded, the ledger records it and the budget is released once
 * the refund is confirmed ({@link EscrowOutcomes}).
 */
@Service
public class RefundService {

    private static final Logger log = LoggerFactory.getLogger(RefundService.class);

    /** What became of a request to refund a paid reservation that runs no job. */
    public sealed interface UnusedRefund {

        /** The refund is decided (no job can start any more) and submitted. */
        record Submitted(ChainTransaction transaction) implements UnusedRefund {
        }

        /** The refund is decided; it could not be submitted now and is submitted again shortly. */
        record Decided(String why) implements UnusedRefund {
        }

        /** The reservation was no longer paid and unused: a job claimed it first, or it closed meanwhile. */
        record NotRefundable(ReservationState state) implements UnusedRefund {
        }
    }

    private final EscrowSubmissions submissions;
    private final Reservations reservations;
    private final Clock clock;

    public RefundService(EscrowSubmissions submissions, Reservations reservations, Clock clock) {
        this.submissions = submissions;
        this.reservations = reservations;
        this.clock = clock;
    }

    /**
     * Refunds a paid reservation that has no job: first PAID → REFUNDING in the database (a conditional move, so a
     * {@code run} racing this call either claimed the reservation before, and then this refunds nothing, or can never
     * claim it after), then the refund is submitted. A refund decided but not submitted (the node did not take it, a
     * crash) is submitted again by {@link EscrowRecovery}.
     */
    public Mono<UnusedRefund> refundUnused(Reservation reservation, String why) {
        return reservations.decideRefund(reservation.reservationId(), why, clock.instant()).map(ReservationMove::moved)
                .flatMap(decided -> !decided
                        ? reservations.findById(reservation.reservationId())
                                .map(now -> (UnusedRefund) new UnusedRefund.NotRefundable(now.state()))
                        : reservations.findById(reservation.reservationId())
                                .flatMap(refunding -> submissions.submit(new EscrowOperation.Refund(refunding)))
                                .map(submission -> switch (submission) {
                                    case EscrowSubmission.Submitted sent -> (UnusedRefund) new UnusedRefund.Submitted(
                                            sent.transaction());
                                    case EscrowSubmission.AlreadyLive live -> new UnusedRefund.Decided(
                                            "a refund of this reservation is already on its way");
                                })
                                .onErrorResume(RelayerRefusedException.class, refused -> {
                                    log.warn("Refund of reservation {} decided but not submitted now ({}); it is "
                                            + "submitted again shortly", reservation.reservationId(), refused.getMessage());
                                    return Mono.just(new UnusedRefund.Decided(refused.getMessage()));
                                }));
    }
}
