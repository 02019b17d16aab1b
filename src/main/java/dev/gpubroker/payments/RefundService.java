package dev.gpubroker.payments;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

import dev.gpubroker.payments.chain.ChainContext;
import dev.gpubroker.payments.chain.EscrowContract;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.payments.relayer.ChainTransaction;
import dev.gpubroker.payments.relayer.Relayer;
import dev.gpubroker.scheduler.Reservation;
import dev.gpubroker.scheduler.ReservationState;
import dev.gpubroker.store.ChainTransactionRepository;
import reactor.core.publisher.Mono;

/**
 * Returns a paid reservation's whole deposit to its payer through the escrow. The reservation becomes refunded, the
 * ledger records it and the budget is released once the refund is confirmed ({@link RefundOutcomes}).
 * At most one refund is in flight per reservation; the escrow refuses a second one anyway.
 */
@Service
public class RefundService {

    static final String REFUND_PURPOSE = "refund";
    private static final Logger log = LoggerFactory.getLogger(RefundService.class);

    private final Relayer relayer;
    private final ChainTransactionRepository transactions;
    private final ChainContext chain;

    public RefundService(Relayer relayer, ChainTransactionRepository transactions, PaymentChain paymentChain) {
        this.relayer = relayer;
        this.transactions = transactions;
        this.chain = paymentChain.context();
    }

    /** Submits the refund; empty when one is already in flight or done for this reservation. */
    public Mono<ChainTransaction> refund(Reservation reservation) {
        if (reservation.state() != ReservationState.PAID && reservation.state() != ReservationState.RUNNING) {
            return Mono.error(new IllegalStateException("only a paid or running reservation is refunded, not a "
                    + reservation.state().wireName() + " one"));
        }
        return transactions.findLive(reservation.reservationId(), REFUND_PURPOSE)
                .hasElement()
                .flatMap(inFlight -> inFlight ? Mono.<ChainTransaction>empty()
                        : relayer.submit(REFUND_PURPOSE, reservation.reservationId(), chain.escrowAddress(),
                                        EscrowContract.refund(EscrowContract.reservationKey(reservation.reservationId())))
                                .doOnNext(sent -> log.info("Refund of reservation {} submitted: {}",
                                        reservation.reservationId(), sent.hash())));
    }
}
