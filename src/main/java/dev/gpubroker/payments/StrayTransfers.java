package dev.gpubroker.payments;

import java.math.BigInteger;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Component;
import org.web3j.protocol.core.methods.response.TransactionReceipt;

import dev.gpubroker.lifecycle.PeriodicSweep;
import dev.gpubroker.payments.chain.ChainContext;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.payments.chain.ReceiveAuthorization;
import dev.gpubroker.payments.relayer.ChainTransaction;
import dev.gpubroker.payments.relayer.TransactionOutcomeListener;
import reactor.core.publisher.Mono;

/**
 * A stock x402 payment that failed leaves a signed TransferWithAuthorization behind that anyone who saw it can still
 * submit straight to the token until its validBefore: its money would then sit in the escrow for no reservation. This
 * sweep watches every failed x402 payment until its authorization expires; when a copy of its transfer reached the
 * escrow without a deposit ({@link DirectTransfers}), it sends the money back to the payer (GpuEscrow.returnTransfer,
 * which checks the same on chain and returns a transfer once). Nothing of it enters the ledger: the money went from the
 * payer's wallet to the escrow and back, for no reservation.
 */
@Component
class StrayTransfers extends PeriodicSweep implements TransactionOutcomeListener {

    private static final Logger log = LoggerFactory.getLogger(StrayTransfers.class);
    private static final Duration INTERVAL = Duration.ofSeconds(15);
    /** A transfer mined just before its validBefore is still found a little after it. */
    private static final Duration AFTER_EXPIRY = Duration.ofMinutes(2);
    private static final int BATCH = 50;

    private final PaymentRepository payments;
    private final DirectTransfers directTransfers;
    private final EscrowSubmissions submissions;
    private final ChainContext chain;
    private final Clock clock;
    private final boolean escrowReturnsTransfers;

    StrayTransfers(PaymentRepository payments, DirectTransfers directTransfers, EscrowSubmissions submissions,
            PaymentChain paymentChain, Clock clock) {
        super("Stray x402 transfers", INTERVAL);
        this.payments = payments;
        this.directTransfers = directTransfers;
        this.submissions = submissions;
        this.chain = paymentChain.context();
        this.clock = clock;
        this.escrowReturnsTransfers = paymentChain.escrowTakesTransfers();
    }

    @Override
    public Mono<Void> sweep() {
        if (!escrowReturnsTransfers) {
            return Mono.empty();
        }
        return payments.failedTransfersToWatch(BATCH)
                .concatMap(watched -> check(watched).onErrorResume(error -> {
                    log.warn("Checking failed payment {} for a stray copy of its x402 transfer failed, retrying: {}",
                            watched.paymentId(), error.toString());
                    return Mono.empty();
                }))
                .then();
    }

    private Mono<Void> check(PaymentRepository.WatchedTransfer watched) {
        TransferDeposits.Transfer transfer = TransferDeposits.transferOf(watched.callData());
        ReceiveAuthorization authorization = new ReceiveAuthorization(transfer.payer(), chain.escrowAddress(),
                transfer.amount(), BigInteger.ZERO, BigInteger.ZERO, transfer.nonce());
        return chain.usdc().authorizationUsed(transfer.payer(), transfer.nonce()).flatMap(used -> {
            if (!used) {
                // Unused: it can still be submitted until it expires; after that nobody can, and the watch ends.
                return clock.instant().isAfter(transfer.validBefore().plus(AFTER_EXPIRY))
                        ? payments.closeStrayWatch(watched.paymentId(), clock.instant()).then()
                        : Mono.empty();
            }
            return directTransfers.unattributed(authorization).flatMap(found -> found.isEmpty()
                    // Used, but not by a transfer into the escrow for nobody (cancelled, or already credited): done.
                    ? payments.closeStrayWatch(watched.paymentId(), clock.instant()).then()
                    : submissions.submit(new EscrowOperation.ReturnTransfer(watched.paymentId(), null,
                                    TransferDeposits.returnOf(watched.callData(), chain.escrowAddress())))
                            .doOnNext(sent -> log.warn("The x402 transfer of failed payment {} reached the escrow "
                                    + "later, sent by someone else ({}): returning {} atomic units to {} ({})",
                                    watched.paymentId(), found.get(), transfer.amount(), transfer.payer(),
                                    sent.transaction().hash()))
                            .then());
        });
    }

    @Override
    public Set<String> purposes() {
        return Set.of(EscrowOperation.RETURN_TRANSFER_PURPOSE);
    }

    @Override
    public Mono<Void> onConfirmed(ChainTransaction transaction, TransactionReceipt receipt) {
        return payments.closeStrayWatch(transaction.referenceId(), clock.instant())
                .doOnNext(closed -> log.info("The stray x402 transfer of payment {} is back with its payer ({})",
                        transaction.referenceId(), transaction.hash()))
                .then();
    }

    @Override
    public Mono<Void> onFailed(ChainTransaction transaction, String reason) {
        // The escrow refused (returned or credited already, or not there): the next sweep looks again and closes the
        // watch when nothing is left to return.
        return Mono.fromRunnable(() -> log.warn("Returning the stray x402 transfer of payment {} failed ({}): {}",
                transaction.referenceId(), transaction.hash(), reason));
    }
}
