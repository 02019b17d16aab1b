package dev.gpubroker.payments;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.springframework.transaction.reactive.TransactionalOperator;
import org.web3j.protocol.core.methods.response.TransactionReceipt;

import dev.gpubroker.ledger.Ledger;
import dev.gpubroker.ledger.LedgerAccounts;
import dev.gpubroker.ledger.LedgerEntry;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.chain.ChainContext;
import dev.gpubroker.payments.chain.EscrowContract;
import dev.gpubroker.payments.chain.EscrowEvent;
import dev.gpubroker.payments.chain.EscrowLogs;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.payments.relayer.ChainTransaction;
import dev.gpubroker.payments.relayer.TransactionOutcomeListener;
import dev.gpubroker.policy.PolicyService;
import dev.gpubroker.scheduler.ReservationMove;
import dev.gpubroker.scheduler.ReservationState;
import dev.gpubroker.scheduler.Reservations;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * What a final escrow transaction means, for every {@link EscrowOperation}: its receipt is read into the escrow event
 * it must carry, and each kind of event is recorded in one database transaction (the state move, the ledger entry keyed
 * to the transaction and the event's log index, the budget's effect). Each record starts with a conditional state move,
 * so a receipt delivered again (after a crash, or by another instance) records nothing more: idempotent, as the
 * relayer's tracker requires.
 */
@Component
class EscrowOutcomes implements TransactionOutcomeListener {

    private static final Logger log = LoggerFactory.getLogger(EscrowOutcomes.class);

    private final PaymentRepository payments;
    private final Reservations reservations;
    private final PaymentService paymentService;
    private final RefundService refunds;
    private final PolicyService policies;
    private final Ledger ledger;
    private final ChainContext chain;
    private final TransactionalOperator transaction;
    private final Clock clock;
    private final SettlementBatchRepository batchMembers;
    private final EscrowSubmissions submissions;
    private final PaymentOutcomeSignals outcomeSignals;

    EscrowOutcomes(PaymentRepository payments, Reservations reservations, PaymentService paymentService,
            RefundService refunds, PolicyService policies, Ledger ledger, PaymentChain paymentChain,
            TransactionalOperator transaction, Clock clock, SettlementBatchRepository batchMembers,
            EscrowSubmissions submissions, PaymentOutcomeSignals outcomeSignals) {
        this.outcomeSignals = outcomeSignals;
        this.batchMembers = batchMembers;
        this.submissions = submissions;
        this.payments = payments;
        this.reservations = reservations;
        this.paymentService = paymentService;
        this.refunds = refunds;
        this.policies = policies;
        this.ledger = ledger;
        this.chain = paymentChain.context();
        this.transaction = transaction;
        this.clock = clock;
    }

    @Override
    public Set<String> purposes() {
        return EscrowOperation.PURPOSES;
    }

    @Override
    public Mono<Void> onConfirmed(ChainTransaction sent, TransactionReceipt receipt) {
        if (EscrowOperation.SETTLE_BATCH_PURPOSE.equals(sent.purpose())) {
            return recordBatchSettled(sent, receipt);
        }
        return Mono.fromCallable(() -> eventOf(sent, receipt)).flatMap(event -> switch (event) {
            case EscrowEvent.Deposited deposited -> recordDeposited(sent, deposited);
            case EscrowEvent.Settled settled -> recordSettled(sent.hash(), sent.referenceId(), settled);
            case EscrowEvent.Refunded refunded -> recordRefunded(sent, refunded);
        });
    }

    @Override
    public Mono<Void> onFailed(ChainTransaction sent, String reason) {
        return switch (sent.purpose()) {
            case EscrowOperation.DEPOSIT_PURPOSE -> payments.findById(sent.referenceId())
                    .flatMap(payment -> paymentService.failOrCredit(payment, sent, reason));
            case EscrowOperation.CREDIT_PURPOSE -> payments.findById(sent.referenceId())
                    .flatMap(payment -> paymentService.fail(payment, reason));
            case EscrowOperation.SETTLE_PURPOSE -> Mono.fromRunnable(() -> log.error("Settlement of reservation {} failed "
                    + "on chain ({}): {}; the deposit stays in escrow", sent.referenceId(), sent.hash(), reason));
            case EscrowOperation.REFUND_PURPOSE -> Mono.fromRunnable(() -> log.error("Refund of reservation {} failed on "
                    + "chain ({}): {}; it stays paid, the operator should look", sent.referenceId(), sent.hash(), reason));
            case EscrowOperation.SETTLE_BATCH_PURPOSE -> settleAlone(sent, reason);
            default -> Mono.error(notEscrow(sent));
        };
    }

    /**
     * A settleBatch moves nothing when it reverts (one member no longer open on chain is enough), so its members are
     * released and each one still running is settled on its own, with the amount its membership recorded: the bad
     * member's own settlement then fails alone (logged as any failed settlement, and JobRecovery finds a reclaim),
     * and the others are paid. Delivered again, it finds the single settlements live and sends nothing more.
     */
    private Mono<Void> settleAlone(ChainTransaction sent, String reason) {
        return batchMembers.release(sent.referenceId())
                .thenMany(batchMembers.members(sent.referenceId()))
                .concatMap(member -> reservations.findById(member.reservationId())
                        .doOnNext(reservation -> log.error("Settlement of reservation {} in batch {} failed on chain "
                                + "({}): {}; {}", member.reservationId(), sent.referenceId(), sent.hash(), reason,
                                reservation.state() == ReservationState.RUNNING ? "settling it on its own"
                                        : "it is " + reservation.state().wireName() + " now, nothing more to send"))
                        .filter(reservation -> reservation.state() == ReservationState.RUNNING)
                        .flatMap(reservation -> submissions.submitAlone(new EscrowOperation.Settle(reservation,
                                member.used())))
                        .onErrorResume(error -> {
                            log.error("Settling reservation {} on its own after batch {} reverted failed: {}; the job "
                                    + "recovery retries it", member.reservationId(), sent.referenceId(), error.toString());
                            return Mono.empty();
                        }))
                .then();
    }

    /**
     * Every member of the batch is recorded exactly as a single settlement is (one database transaction each, keyed to
     * its own Settled event), after its amounts are checked against what its membership recorded before the
     * transaction was signed. A receipt whose events do not match the members one for one is not this batch's: loud.
     */
    private Mono<Void> recordBatchSettled(ChainTransaction sent, TransactionReceipt receipt) {
        return batchMembers.members(sent.referenceId()).collectList().flatMap(members -> {
            Map<String, EscrowEvent.Settled> events = EscrowLogs.settledByReservationKey(receipt, chain.escrowAddress());
            if (members.isEmpty() || events.size() != members.size()) {
                return Mono.error(new IllegalStateException("settlement batch " + sent.referenceId() + " (" + sent.hash()
                        + ") has " + members.size() + " members but " + events.size() + " Settled events"));
            }
            return Flux.fromIterable(members).concatMap(member -> {
                EscrowEvent.Settled settled = events.get(EscrowContract.reservationKey(member.reservationId())
                        .toLowerCase(Locale.ROOT));
                if (settled == null) {
                    return Mono.error(new IllegalStateException("settlement batch " + sent.hash() + " has no Settled "
                            + "event for its member " + member.reservationId()));
                }
                if (!settled.paidToPayee().equals(member.used())
                        || !settled.paidToPayee().plus(settled.refundedToPayer()).equals(member.escrowed())) {
                    return Mono.error(new IllegalStateException("settlement batch " + sent.hash() + " paid "
                            + settled.paidToPayee() + " + " + settled.refundedToPayer() + " for " + member.reservationId()
                            + ", not the " + member.used() + " used of " + member.escrowed() + " its member recorded"));
                }
                return recordSettled(sent.hash(), member.reservationId(), settled);
            }).then();
        });
    }

    /** The event the operation's success must carry; a success without it means the chain is not ours (loud). */
    private EscrowEvent eventOf(ChainTransaction sent, TransactionReceipt receipt) {
        return switch (sent.purpose()) {
            case EscrowOperation.DEPOSIT_PURPOSE, EscrowOperation.CREDIT_PURPOSE ->
                    EscrowLogs.deposited(receipt, chain.escrowAddress());
            case EscrowOperation.SETTLE_PURPOSE -> EscrowLogs.settled(receipt, chain.escrowAddress());
            case EscrowOperation.REFUND_PURPOSE -> EscrowLogs.refunded(receipt, chain.escrowAddress());
            default -> throw notEscrow(sent);
        };
    }

    /**
     * In one database transaction the payment is confirmed, the reservation becomes paid, and the ledger records the
     * move from the agent's wallet into the escrow. A reservation that was cancelled while its deposit was confirming
     * gets the whole deposit refunded at once.
     */
    private Mono<Void> recordDeposited(ChainTransaction sent, EscrowEvent.Deposited deposited) {
        return payments.findById(sent.referenceId())
                .switchIfEmpty(Mono.error(new IllegalStateException("no payment " + sent.referenceId() + " for " + sent.hash())))
                .flatMap(payment -> {
                    if (!deposited.amount().equals(payment.amount())) {
                        return Mono.error(new IllegalStateException("deposit " + sent.hash() + " put " + deposited.amount()
                                + " in escrow, not the " + payment.amount() + " of payment " + payment.paymentId()));
                    }
                    return transaction.transactional(payments.transition(payment.paymentId(),
                                    List.of(Payment.Status.PENDING, Payment.Status.SUBMITTED), Payment.Status.CONFIRMED,
                                    sent.hash(), null, clock.instant())
                            .flatMap(confirmed -> !confirmed ? Mono.empty()
                                    : reservations.markPaid(payment.reservationId(), payment.paymentId(), clock.instant())
                                            .map(ReservationMove::moved)
                                            .flatMap(paid -> {
                                                if (!paid) {
                                                    // The claim makes this impossible; if it ever happens, say so
                                                    // loudly: the money is in escrow and the operator must refund it.
                                                    log.error("Deposit {} confirmed for reservation {} that is no longer "
                                                            + "held; refund it", sent.hash(), payment.reservationId());
                                                }
                                                return ledger.record(LedgerEntry.transfer(LedgerEntry.newId(),
                                                        payment.reservationId(), sent.hash(), deposited.logIndex(),
                                                        "deposit into escrow", LedgerAccounts.agentWallet(payment.agentId()),
                                                        LedgerAccounts.escrow(payment.reservationId()), payment.amount()));
                                            }))
                            .doOnNext(recorded -> log.info("Payment {} confirmed; reservation {} is paid",
                                    payment.paymentId(), payment.reservationId())))
                            // After the commit: a pay call waiting on this instance reads the outcome now.
                            .doOnSuccess(done -> outcomeSignals.recorded(payment.paymentId()))
                            // Read after the commit: a cancel that came while the deposit was confirming marked the
                            // reservation first, so either it sees PAID and refunds, or this sees its mark and refunds.
                            .then(Mono.defer(() -> reservations.findById(payment.reservationId())))
                            .filter(reservation -> reservation.cancelRequested()
                                    && reservation.state() == ReservationState.PAID)
                            .flatMap(reservation -> refunds.refundUnused(reservation, "it was cancelled while its "
                                    + "payment was being confirmed"));
                })
                .then();
    }

    /**
     * In one database transaction the reservation is settled, the ledger records the used amount to the seller and the
     * rest back to the agent (one entry), and the budget hold becomes spending of the used amount.
     */
    private Mono<Void> recordSettled(String txHash, String reservationId, EscrowEvent.Settled settled) {
        Usdc paid = settled.paidToPayee();
        Usdc refunded = settled.refundedToPayer();
        return reservations.findById(reservationId).flatMap(reservation -> {
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
            LedgerEntry entry = new LedgerEntry(LedgerEntry.newId(), reservation.reservationId(), txHash,
                    settled.logIndex(), "settlement: used to the seller, the rest back", lines);
            return transaction.transactional(reservations.settle(reservation.reservationId(), "settled: " + paid + " used, "
                            + refunded + " refunded", clock.instant()).map(ReservationMove::moved)
                    .flatMap(moved -> !moved ? Mono.<Boolean>empty()
                            : ledger.record(entry).then(policies.spendBudget(reservation.reservationId(), paid))))
                    .doOnSuccess(done -> log.info("Reservation {} settled: {} to {}, {} back to the agent ({})",
                            reservation.reservationId(), paid, reservation.provider(), refunded, txHash));
        }).then();
    }

    /**
     * In one database transaction the reservation becomes refunded, the ledger moves the amount from the escrow back to
     * the agent's wallet and the budget hold is released.
     */
    private Mono<Void> recordRefunded(ChainTransaction sent, EscrowEvent.Refunded refunded) {
        // A receipt seen again (after a restart) finds the reservation refunded already: nothing more to record.
        return reservations.findById(sent.referenceId())
                .filter(reservation -> reservation.state().canMoveTo(ReservationState.REFUNDED))
                .flatMap(reservation -> !refunded.refundedToPayer().equals(reservation.amount())
                        ? Mono.<Boolean>error(new IllegalStateException("refund " + sent.hash() + " returned "
                                + refunded.refundedToPayer() + ", not the " + reservation.amount() + " escrowed for "
                                + reservation.reservationId()))
                        : transaction.transactional(reservations.markRefunded(reservation,
                                        "refunded in full: " + sent.hash(), clock.instant()).map(ReservationMove::moved)
                                .flatMap(moved -> !moved ? Mono.<Boolean>empty()
                                        : ledger.record(LedgerEntry.transfer(LedgerEntry.newId(),
                                                        reservation.reservationId(), sent.hash(), refunded.logIndex(),
                                                        "refund from escrow",
                                                        LedgerAccounts.escrow(reservation.reservationId()),
                                                        LedgerAccounts.agentWallet(reservation.agentId()),
                                                        reservation.amount()))
                                                .then(policies.releaseBudget(reservation.reservationId())))))
                .doOnSuccess(done -> log.info("Reservation {} refunded ({})", sent.referenceId(), sent.hash()))
                .then();
    }

    private static IllegalStateException notEscrow(ChainTransaction sent) {
        return new IllegalStateException("transaction " + sent.hash() + " has purpose " + sent.purpose()
                + ", not an escrow operation's");
    }
}
