package dev.gpubroker.payments;

import java.time.Clock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

import dev.gpubroker.payments.chain.ChainContext;
import dev.gpubroker.payments.chain.EscrowContract;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.payments.relayer.ChainTransaction;
import dev.gpubroker.payments.relayer.Relayer;
import dev.gpubroker.payments.relayer.RelayerRefusedException;
import dev.gpubroker.scheduler.Reservation;
import dev.gpubroker.scheduler.ReservationState;
import dev.gpubroker.scheduler.Reservations;
import reactor.core.publisher.Mono;

/**
 * Returns a reservation's whole deposit to its payer through the escrow. The reservation becomes refunded, the ledger
 * records it and the budget is released once the refund is confirmed ({@link RefundOutcomes}).
 * At most one refund is in flight per reservation; the escrow refuses a second one anyway.
 */
@Service
public class RefundService {

    static final String REFUND_PURPOSE = "refund";
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

    private final Relayer relayer;
    private final Reservations reservations;
    private final ChainContext chain;
    private final Clock clock;

    public RefundService(Relayer relayer, Reservations reservations,
            PaymentChain paymentChain, Clock clock) {
        this.relayer = relayer;
        this.reservations = reservations;
        this.chain = paymentChain.context();
        this.clock = clock;
    }

    /**
     * Refunds a paid reservation that has no job: first PAID → REFUNDING in the database (a conditional move, so a
     * {@code run} racing this call either claimed the reservation before, and then this refunds nothing, or can never
     * claim it after), then the refund is submitted. A refund decided but not submitted (the node did not take it, a
     * crash) is submitted again by {@link EscrowRecovery}.
     */
    public Mono<UnusedRefund> refundUnused(Reservation reservation, String why) {
        return reservations.transition(reservation.reservationId(), ReservationState.PAID, ReservationState.REFUNDING,
                        "refund of the whole deposit decided: " + why, clock.instant())
                .flatMap(decided -> !decided
                        ? reservations.findById(reservation.reservationId())
                                .map(now -> (UnusedRefund) new UnusedRefund.NotRefundable(now.state()))
                        : reservations.findById(reservation.reservationId())
                                .flatMap(this::refund)
                                .map(sent -> (UnusedRefund) new UnusedRefund.Submitted(sent))
                                .defaultIfEmpty(new UnusedRefund.Decided("a refund of this reservation is already on its way"))
                                .onErrorResume(RelayerRefusedException.class, refused -> {
                                    log.warn("Refund of reservation {} decided but not submitted now ({}); it is "
                                            + "submitted again shortly", reservation.reservationId(), refused.getMessage());
                                    return Mono.just(new UnusedRefund.Decided(refused.getMessage()));
                                }));
    }

    /**
     * Submits the refund of a reservation whose refund is decided (refunding) or whose job failed without anything to
     * bill (running); empty when one is already in flight or done for this reservation.
     */
    public Mono<ChainTransaction> refund(Reservation reservation) {
        if (reservation.state() != ReservationState.REFUNDING && reservation.state() != ReservationState.RUNNING) {
            return Mono.error(new IllegalStateException("only a refunding or running reservation is refunded, not a "
                    + reservation.state().wireName() + " one"));
        }
        return relayer.findLive(reservation.reservationId(), REFUND_PURPOSE)
                .hasElement()
                .flatMap(inFlight -> inFlight ? Mono.<ChainTransaction>empty()
                        : relayer.submit(REFUND_PURPOSE, reservation.reservationId(), chain.escrowAddress(),
                                        EscrowContract.refund(EscrowContract.reservationKey(reservation.reservationId())))
                                .doOnNext(sent -> log.info("Refund of reservation {} submitted: {}",
                                        reservation.reservationId(), sent.hash())));
    }
}
