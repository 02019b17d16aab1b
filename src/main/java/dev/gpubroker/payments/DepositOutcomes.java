package dev.gpubroker.payments;

import java.time.Clock;
import java.util.List;

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
import dev.gpubroker.scheduler.ReservationState;
import dev.gpubroker.scheduler.Reservations;
import reactor.core.publisher.Mono;

/**
 * What a mined deposit means. Confirmed: in one database transaction the payment is confirmed, the reservation
 * becomes paid, and the ledger records the move from the agent's wallet into the escrow, keyed to the Deposited log.
 * Reverted: the payment failed and nothing moved; the reservation can be paid again or expire. A reservation that was
 * cancelled while its deposit was confirming gets the whole deposit refunded at once. Idempotent.
 */
@Component
class DepositOutcomes implements TransactionOutcomeListener {

    private static final Logger log = LoggerFactory.getLogger(DepositOutcomes.class);

    private final PaymentRepository payments;
    private final Reservations reservations;
    private final PaymentService paymentService;
    private final Ledger ledger;
    private final ChainContext chain;
    private final TransactionalOperator transaction;
    private final Clock clock;
    private final RefundService refunds;

    DepositOutcomes(PaymentRepository payments, Reservations reservations, PaymentService paymentService,
            Ledger ledger, PaymentChain paymentChain, TransactionalOperator transaction, Clock clock,
            RefundService refunds) {
        this.refunds = refunds;
        this.payments = payments;
        this.reservations = reservations;
        this.paymentService = paymentService;
        this.ledger = ledger;
        this.chain = paymentChain.context();
        this.transaction = transaction;
        this.clock = clock;
    }

    @Override
    public String purpose() {
        return PaymentService.DEPOSIT_PURPOSE;
    }

    @Override
    public Mono<Void> onConfirmed(ChainTransaction sent, TransactionReceipt receipt) {
        Log deposited = EscrowLogs.require(receipt, chain.escrowAddress(), EscrowContract.DEPOSITED_TOPIC, "Deposited");
        return payments.findById(sent.referenceId())
                .switchIfEmpty(Mono.error(new IllegalStateException("no payment " + sent.referenceId() + " for " + sent.hash())))
                .flatMap(payment -> transaction.transactional(payments.transition(payment.paymentId(),
                                List.of(Payment.Status.PENDING, Payment.Status.SUBMITTED), Payment.Status.CONFIRMED,
                                sent.hash(), null, clock.instant())
                        .flatMap(confirmed -> !confirmed ? Mono.empty()
                                : reservations.markPaid(payment.reservationId(), payment.paymentId(), clock.instant())
                                        .flatMap(paid -> {
                                            if (!paid) {
                                                // The claim makes this impossible; if it ever happens, say so loudly:
                                                // the money is in escrow and the operator must refund it.
                                                log.error("Deposit {} confirmed for reservation {} that is no longer held; "
                                                        + "refund it", sent.hash(), payment.reservationId());
                                            }
                                            return ledger.record(LedgerEntry.transfer(LedgerEntry.newId(),
                                                    payment.reservationId(), sent.hash(), deposited.getLogIndex().intValueExact(),
                                                    "deposit into escrow", LedgerAccounts.agentWallet(payment.agentId()),
                                                    LedgerAccounts.escrow(payment.reservationId()), payment.amount()));
                                        }))
                        .doOnNext(recorded -> log.info("Payment {} confirmed; reservation {} is paid",
                                payment.paymentId(), payment.reservationId())))
                        // Read after the commit: a cancel that came while the deposit was confirming marked the
                        // reservation first, so either it sees PAID and refunds, or this sees its mark and refunds.
                        .then(Mono.defer(() -> reservations.findById(payment.reservationId())))
                        .filter(reservation -> reservation.cancelRequested() && reservation.state() == ReservationState.PAID)
                        .flatMap(reservation -> refunds.refundUnused(reservation, "it was cancelled while its payment "
                                + "was being confirmed")))
                .then();
    }

    @Override
    public Mono<Void> onFailed(ChainTransaction sent, String reason) {
        return payments.findById(sent.referenceId())
                .flatMap(payment -> paymentService.fail(payment, reason));
    }
}
