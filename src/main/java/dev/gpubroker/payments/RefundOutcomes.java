package dev.gpubroker.payments;

import java.time.Clock;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.reactive.TransactionalOperator;
import org.web3j.protocol.core.methods.response.Log;
import org.web3j.protocol.core.methods.response.TransactionReceipt;

import dev.gpubroker.ledger.Ledger;
import dev.gpubroker.ledger.LedgerAccounts;
import dev.gpubroker.ledger.LedgerEntry;
import dev.gpubroker.payments.chain.ChainContext;
import dev.gpubroker.payments.chain.EscrowContract;
import dev.gpubroker.payments.chain.EscrowLogs;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.payments.relayer.ChainTransaction;
import dev.gpubroker.payments.relayer.TransactionOutcomeListener;
import dev.gpubroker.policy.PolicyService;
import dev.gpubroker.scheduler.ReservationState;
import dev.gpubroker.scheduler.Reservations;
import reactor.core.publisher.Mono;

/**
 * A confirmed refund: in one database transaction the reservation becomes refunded, the ledger moves the amount from
 * the escrow back to the agent's wallet (keyed to the Refunded log) and the budget hold is released. Idempotent.
 */
@Component
class RefundOutcomes implements TransactionOutcomeListener {

    private static final Logger log = LoggerFactory.getLogger(RefundOutcomes.class);

    private final Reservations reservations;
    private final PolicyService policies;
    private final Ledger ledger;
    private final ChainContext chain;
    private final TransactionalOperator transaction;
    private final Clock clock;

    RefundOutcomes(Reservations reservations, PolicyService policies, Ledger ledger, PaymentChain paymentChain,
            TransactionalOperator transaction, Clock clock) {
        this.reservations = reservations;
        this.policies = policies;
        this.ledger = ledger;
        this.chain = paymentChain.context();
        this.transaction = transaction;
        this.clock = clock;
    }

    @Override
    public String purpose() {
        return RefundService.REFUND_PURPOSE;
    }

    @Override
    public Mono<Void> onConfirmed(ChainTransaction sent, TransactionReceipt receipt) {
        Log refunded = EscrowLogs.require(receipt, chain.escrowAddress(), EscrowContract.REFUNDED_TOPIC, "Refunded");
        // A receipt seen again (after a restart) finds the reservation refunded already: nothing more to record.
        return reservations.findById(sent.referenceId())
                .filter(reservation -> reservation.state().canMoveTo(ReservationState.REFUNDED))
                .flatMap(reservation -> transaction.transactional(reservations.transition(reservation.reservationId(),
                                reservation.state(), ReservationState.REFUNDED, "refunded in full: " + sent.hash(),
                                clock.instant())
                        .flatMap(moved -> !moved ? Mono.<Boolean>empty()
                                : ledger.record(LedgerEntry.transfer(LedgerEntry.newId(), reservation.reservationId(),
                                                sent.hash(), refunded.getLogIndex().intValueExact(), "refund from escrow",
                                                LedgerAccounts.escrow(reservation.reservationId()),
                                                LedgerAccounts.agentWallet(reservation.agentId()), reservation.amount()))
                                        .then(policies.releaseBudget(reservation.reservationId())))))
                .doOnSuccess(done -> log.info("Reservation {} refunded ({})", sent.referenceId(), sent.hash()))
                .then();
    }

    @Override
    public Mono<Void> onFailed(ChainTransaction sent, String reason) {
        log.error("Refund of reservation {} failed on chain ({}): {}; it stays paid, the operator should look",
                sent.referenceId(), sent.hash(), reason);
        return Mono.empty();
    }
}
