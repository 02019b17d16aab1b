package dev.gpubroker.payments;

import java.math.BigInteger;
import java.time.Clock;
import java.util.List;
import java.util.Optional;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;
import org.springframework.transaction.reactive.TransactionalOperator;
import org.web3j.abi.FunctionReturnDecoder;
import org.web3j.protocol.core.methods.response.EthLog;

import dev.gpubroker.ledger.Ledger;
import dev.gpubroker.ledger.LedgerAccounts;
import dev.gpubroker.ledger.LedgerEntry;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.chain.ChainContext;
import dev.gpubroker.payments.chain.EscrowContract;
import dev.gpubroker.payments.chain.EscrowDeposit;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.policy.PolicyService;
import dev.gpubroker.scheduler.Reservation;
import dev.gpubroker.scheduler.ReservationMove;
import dev.gpubroker.scheduler.ReservationState;
import dev.gpubroker.scheduler.Reservations;
import reactor.core.publisher.Mono;

/**
 * A deposit its payer took back on chain ({@code GpuEscrow.reclaim}, open to anyone once the escrow deadline and its
 * grace period have passed). Nothing the broker sends can move that money any more: a settlement or refund would
 * revert forever. Once the broker sees the escrow in state Reclaimed, it records the {@code Reclaimed} event in the
 * ledger (escrow → the agent's wallet, keyed to that log), ends the reservation as refunded and releases its budget,
 * all in one database transaction, once.
 */
@Service
public class Reclaims {

    private static final Logger log = LoggerFactory.getLogger(Reclaims.class);

    /** A reclaim seen on chain: the transaction that did it, whoever sent it. */
    public record Reclaim(String reservationId, String txHash, int logIndex, Usdc amount) {
    }

    private final EscrowState escrow;
    private final ChainContext chain;
    private final Reservations reservations;
    private final Ledger ledger;
    private final PolicyService policies;
    private final TransactionalOperator transaction;
    private final Clock clock;

    public Reclaims(EscrowState escrow, PaymentChain paymentChain, Reservations reservations, Ledger ledger,
            PolicyService policies, TransactionalOperator transaction, Clock clock) {
        this.escrow = escrow;
        this.chain = paymentChain.context();
        this.reservations = reservations;
        this.ledger = ledger;
        this.policies = policies;
        this.transaction = transaction;
        this.clock = clock;
    }

    /**
     * The reclaim of this reservation's deposit, recorded (once) if the escrow says it happened; empty when the
     * deposit was not reclaimed.
     */
    public Mono<Reclaim> recordIfReclaimed(Reservation reservation) {
        return escrow.of(reservation.reservationId())
                .filter(deposit -> deposit.state() == EscrowDeposit.State.RECLAIMED)
                .flatMap(deposit -> findEvent(reservation))
                .flatMap(reclaim -> record(reservation, reclaim).thenReturn(reclaim));
    }

    @SuppressWarnings("rawtypes")
    private Mono<Reclaim> findEvent(Reservation reservation) {
        String key = EscrowContract.reservationKey(reservation.reservationId());
        return chain.client().logs(chain.escrowAddress(), EscrowContract.RECLAIMED_TOPIC, key)
                .flatMap(logs -> {
                    if (logs.size() != 1) {
                        return Mono.error(new IllegalStateException("the escrow is reclaimed for reservation "
                                + reservation.reservationId() + " but " + logs.size() + " Reclaimed events were found"));
                    }
                    EthLog.LogObject event = (EthLog.LogObject) logs.getFirst().get();
                    List<org.web3j.abi.datatypes.Type> values = FunctionReturnDecoder.decode(event.getData(),
                            EscrowContract.RECLAIMED.getNonIndexedParameters());
                    Usdc amount = Usdc.ofMicros(((BigInteger) values.getFirst().getValue()).longValueExact());
                    if (!amount.equals(reservation.amount())) {
                        return Mono.error(new IllegalStateException("reservation " + reservation.reservationId()
                                + " escrowed " + reservation.amount() + " but its payer reclaimed " + amount));
                    }
                    return Mono.just(new Reclaim(reservation.reservationId(), event.getTransactionHash(),
                            event.getLogIndex().intValueExact(), amount));
                });
    }

    /** Ends the reservation as it stands now (read again: the caller's copy may be stale) and writes the ledger line. */
    private Mono<Void> record(Reservation stale, Reclaim reclaim) {
        return reservations.findById(stale.reservationId())
                .filter(reservation -> reservation.state().canMoveTo(ReservationState.REFUNDED))
                .flatMap(reservation -> transaction.transactional(reservations.markRefunded(reservation,
                                "the payer reclaimed the whole deposit on chain after the escrow deadline: "
                                        + reclaim.txHash(), clock.instant()).map(ReservationMove::moved)
                        .flatMap(moved -> !moved ? Mono.<Void>empty()
                                : ledger.record(LedgerEntry.transfer(LedgerEntry.newId(), reservation.reservationId(),
                                                reclaim.txHash(), reclaim.logIndex(),
                                                "reclaimed from escrow by its payer after the escrow deadline",
                                                LedgerAccounts.escrow(reservation.reservationId()),
                                                LedgerAccounts.agentWallet(reservation.agentId()), reclaim.amount()))
                                        .then(policies.releaseBudget(reservation.reservationId()))
                                        .doOnSuccess(done -> log.warn("Reservation {} ({}) was reclaimed on chain by "
                                                + "its payer ({}): recorded as refunded; nothing can be settled for it",
                                                reservation.reservationId(), reservation.state().wireName(),
                                                reclaim.txHash()))
                                        .then())))
                .then();
    }
}
