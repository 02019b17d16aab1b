package dev.gpubroker.payments;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

import dev.gpubroker.payments.chain.ChainContext;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.payments.relayer.ChainTransaction;
import dev.gpubroker.payments.relayer.Relayer;
import dev.gpubroker.scheduler.ReservationState;
import reactor.core.publisher.Mono;

/**
 * The one way an escrow call is sent: refused before anything is sent when it would break an escrow invariant (a
 * settlement never takes more than was escrowed; only a refunding or running reservation is refunded), nothing sent
 * when one of the same purpose is already on its way or done for the same reference (what makes a settlement or a
 * refund happen at most once per reservation; the escrow refuses a second one anyway), else handed to the relayer.
 * The relayer's own refusal ({@link dev.gpubroker.payments.relayer.RelayerRefusedException}) reaches the caller.
 */
@Service
public class EscrowSubmissions {

    private static final Logger log = LoggerFactory.getLogger(EscrowSubmissions.class);

    private final Relayer relayer;
    private final ChainContext chain;

    public EscrowSubmissions(Relayer relayer, PaymentChain paymentChain) {
        this.relayer = relayer;
        this.chain = paymentChain.context();
    }

    public Mono<EscrowSubmission> submit(EscrowOperation operation) {
        return Mono.defer(() -> {
            IllegalStateException refusal = refusal(operation);
            if (refusal != null) {
                return Mono.error(refusal);
            }
            return relayer.findLive(operation.referenceId(), operation.purpose())
                    .<EscrowSubmission>map(EscrowSubmission.AlreadyLive::new)
                    .switchIfEmpty(Mono.defer(() -> relayer.submit(operation.purpose(), operation.referenceId(),
                                    chain.escrowAddress(), operation.callData())
                            .doOnNext(sent -> logSubmitted(operation, sent))
                            .map(EscrowSubmission.Submitted::new)));
        });
    }

    /** The transaction of this purpose for this reference that is on its way or done, if any. */
    public Mono<ChainTransaction> findLive(String referenceId, String purpose) {
        return relayer.findLive(referenceId, purpose);
    }

    /** A programmer's error, never an agent's: the callers decide the operation from the reservation they read. */
    private static IllegalStateException refusal(EscrowOperation operation) {
        return switch (operation) {
            case EscrowOperation.Deposit deposit -> null;
            case EscrowOperation.Credit credit -> null;
            case EscrowOperation.Settle settle -> settle.used().compareTo(settle.reservation().amount()) > 0
                    ? new IllegalStateException("settling " + settle.used() + " of reservation " + settle.reservationId()
                            + " would take more than the " + settle.reservation().amount() + " escrowed")
                    : null;
            case EscrowOperation.Refund refund -> refund.reservation().state() != ReservationState.REFUNDING
                    && refund.reservation().state() != ReservationState.RUNNING
                    ? new IllegalStateException("only a refunding or running reservation is refunded, not a "
                            + refund.reservation().state().wireName() + " one")
                    : null;
        };
    }

    private static void logSubmitted(EscrowOperation operation, ChainTransaction sent) {
        switch (operation) {
            // The payment flow logs its deposit with the payer and amount, once the payment is marked submitted.
            case EscrowOperation.Deposit deposit -> {
            }
            case EscrowOperation.Credit credit -> log.info("Credit of the x402 transfer of payment {} to reservation {} "
                    + "submitted: {}", credit.paymentId(), credit.reservationId(), sent.hash());
            case EscrowOperation.Settle settle -> log.info("Settlement of reservation {} submitted: {} used of {} ({})",
                    settle.reservationId(), settle.used(), settle.reservation().amount(), sent.hash());
            case EscrowOperation.Refund refund -> log.info("Refund of reservation {} submitted: {}",
                    refund.reservationId(), sent.hash());
        }
    }
}
