package dev.gpubroker.payments;

import java.math.BigInteger;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.reactive.TransactionalOperator;
import org.web3j.abi.FunctionReturnDecoder;
import org.web3j.protocol.core.methods.response.Log;
import org.web3j.protocol.core.methods.response.TransactionReceipt;

import dev.gpubroker.ledger.Ledger;
import dev.gpubroker.ledger.LedgerAccounts;
import dev.gpubroker.ledger.LedgerEntry;
import dev.gpubroker.money.Usdc;
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
 * A confirmed settlement, in one database transaction: the reservation is settled, the ledger records the used amount
 * to the seller and the rest back to the agent (one entry keyed to the Settled log), and the budget hold becomes
 * spending of the used amount. Idempotent.
 */
@Component
class SettleOutcomes implements TransactionOutcomeListener {

    private static final Logger log = LoggerFactory.getLogger(SettleOutcomes.class);

    private final Reservations reservations;
    private final PolicyService policies;
    private final Ledger ledger;
    private final ChainContext chain;
    private final TransactionalOperator transaction;
    private final Clock clock;

    SettleOutcomes(Reservations reservations, PolicyService policies, Ledger ledger,
            PaymentChain paymentChain, TransactionalOperator transaction, Clock clock) {
        this.reservations = reservations;
        this.policies = policies;
        this.ledger = ledger;
        this.chain = paymentChain.context();
        this.transaction = transaction;
        this.clock = clock;
    }

    @Override
    public String purpose() {
        return SettlementService.SETTLE_PURPOSE;
    }

    @Override
    @SuppressWarnings("rawtypes")
    public Mono<Void> onConfirmed(ChainTransaction sent, TransactionReceipt receipt) {
        Log settled = EscrowLogs.require(receipt, chain.escrowAddress(), EscrowContract.SETTLED_TOPIC, "Settled");
        List<org.web3j.abi.datatypes.Type> values = FunctionReturnDecoder.decode(settled.getData(),
                EscrowContract.SETTLED.getNonIndexedParameters());
        Usdc paid = Usdc.ofMicros(((BigInteger) values.get(0).getValue()).longValueExact());
        Usdc refunded = Usdc.ofMicros(((BigInteger) values.get(1).getValue()).longValueExact());
        return reservations.findById(sent.referenceId()).flatMap(reservation -> {
            if (!paid.plus(refunded).equals(reservation.amount())) {
                return Mono.error(new IllegalStateException("settlement of " + reservation.reservationId() + " moved "
                        + paid + " + " + refunded + ", not the " + reservation.amount() + " escrowed"));
            }
            List<LedgerEntry.Line> lines = new ArrayList<>();
            lines.add(new LedgerEntry.Line(LedgerAccounts.escrow(reservation.reservationId()), LedgerEntry.Direction.C,
                    reservation.amount()));
            if (!paid.isZero()) {
                lines.add(new LedgerEntry.Line(LedgerAccounts.seller(reservation.provider()), LedgerEntry.Direction.D, paid));
            }
            if (!refunded.isZero()) {
                lines.add(new LedgerEntry.Line(LedgerAccounts.agentWallet(reservation.agentId()), LedgerEntry.Direction.D,
                        refunded));
            }
            LedgerEntry entry = new LedgerEntry(LedgerEntry.newId(), reservation.reservationId(), sent.hash(),
                    settled.getLogIndex().intValueExact(), "settlement: used to the seller, the rest back", lines);
            return transaction.transactional(reservations.transition(reservation.reservationId(), ReservationState.RUNNING,
                            ReservationState.SETTLED, "settled: " + paid + " used, " + refunded + " refunded", clock.instant())
                    .flatMap(moved -> !moved ? Mono.<Boolean>empty()
                            : ledger.record(entry).then(policies.spendBudget(reservation.reservationId(), paid))))
                    .doOnSuccess(done -> log.info("Reservation {} settled: {} to {}, {} back to the agent ({})",
                            reservation.reservationId(), paid, reservation.provider(), refunded, sent.hash()));
        }).then();
    }

    @Override
    public Mono<Void> onFailed(ChainTransaction sent, String reason) {
        log.error("Settlement of reservation {} failed on chain ({}): {}; the deposit stays in escrow", sent.referenceId(),
                sent.hash(), reason);
        return Mono.empty();
    }
}
