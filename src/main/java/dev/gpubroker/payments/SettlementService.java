package dev.gpubroker.payments;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.chain.ChainContext;
import dev.gpubroker.payments.chain.EscrowContract;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.payments.relayer.ChainTransaction;
import dev.gpubroker.payments.relayer.Relayer;
import dev.gpubroker.scheduler.Reservation;
import reactor.core.publisher.Mono;

/**
 * Settles a reservation's escrow: {@code used} to the seller and the rest back to the agent, in one transaction.
 * Never more than what was escrowed; at most one settlement in flight per reservation (the escrow refuses a second).
 */
@Service
public class SettlementService {

    static final String SETTLE_PURPOSE = "settle";
    private static final Logger log = LoggerFactory.getLogger(SettlementService.class);

    private final Relayer relayer;
    private final ChainContext chain;

    public SettlementService(Relayer relayer, PaymentChain paymentChain) {
        this.relayer = relayer;
        this.chain = paymentChain.context();
    }

    public Mono<ChainTransaction> settle(Reservation reservation, Usdc used) {
        if (used.compareTo(reservation.amount()) > 0) {
            return Mono.error(new IllegalStateException("settling " + used + " of reservation " + reservation.reservationId()
                    + " would take more than the " + reservation.amount() + " escrowed"));
        }
        return relayer.findLive(reservation.reservationId(), SETTLE_PURPOSE)
                .switchIfEmpty(Mono.defer(() -> relayer.submit(SETTLE_PURPOSE, reservation.reservationId(),
                                chain.escrowAddress(), EscrowContract.settle(EscrowContract.reservationKey(reservation.reservationId()),
                                        java.math.BigInteger.valueOf(used.micros())))
                        .doOnNext(sent -> log.info("Settlement of reservation {} submitted: {} used of {} ({})",
                                reservation.reservationId(), used, reservation.amount(), sent.hash()))));
    }
}
