package dev.gpubroker.payments;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;

import dev.gpubroker.payments.chain.ChainContext;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.payments.relayer.ChainTransaction;
import dev.gpubroker.payments.relayer.Relayed;
import dev.gpubroker.payments.relayer.Relayer;
import dev.gpubroker.scheduler.ReservationState;
import reactor.core.publisher.Mono;

/**
 * The one way an escrow call is sent: refused before anything is sent when it would break an escrow invariant (a
 * settlement never takes more than was escrowed; only a refunding or running reservation is refunded), nothing sent
 * when one of the same purpose is already on its way or done for the same reference (what makes a settlement or a
 * refund happen at most once per reservation; the escrow refuses a second one anyway), else handed to the relayer,
 * which looks again under its nonce lock ({@link Relayer#relay}), so two instances that both found nothing here still
 * sign one transaction between them.
 * The relayer's own refusal ({@link dev.gpubroker.payments.relayer.RelayerRefusedException}) reaches the caller.
 *
 * <p>With batched settlement on ({@link SettlementBatching}), a settlement goes to the {@link SettlementBatcher}, and
 * its answer is the transaction of the batch it went out in (the same for every member); one the batcher sends back
 * (alone in its window, or its batch refused) is sent alone here. A settlement is found, and never sent again,
 * whether it went alone or in a batch ({@link #findLive}).
 */
@Service
public class EscrowSubmissions {

    private static final Logger log = LoggerFactory.getLogger(EscrowSubmissions.class);

    private final Relayer relayer;
    private final SettlementBatcher batcher;
    private final SettlementBatching batching;
    private final ChainContext chain;

    public EscrowSubmissions(Relayer relayer, SettlementBatcher batcher, SettlementBatching batching,
            PaymentChain paymentChain) {
        this.relayer = relayer;
        this.batcher = batcher;
        this.batching = batching;
        this.chain = paymentChain.context();
    }

    public Mono<EscrowSubmission> submit(EscrowOperation operation) {
        return submit(operation, batching.enabled());
    }

    /** Never batched: for the members of a batch that reverted, each settled on its own. */
    Mono<EscrowSubmission> submitAlone(EscrowOperation.Settle settle) {
        return submit(settle, false);
    }

    private Mono<EscrowSubmission> submit(EscrowOperation operation, boolean batched) {
        return Mono.defer(() -> {
            IllegalStateException refusal = refusal(operation);
            if (refusal != null) {
                return Mono.error(refusal);
            }
            return findLive(operation.referenceId(), operation.purpose())
                    .<EscrowSubmission>map(EscrowSubmission.AlreadyLive::new)
                    .switchIfEmpty(Mono.defer(() -> batched && operation instanceof EscrowOperation.Settle settle
                            ? batch(settle) : sendAlone(operation)));
        });
    }

    private Mono<EscrowSubmission> batch(EscrowOperation.Settle settle) {
        return batcher.place(settle).flatMap(placed -> switch (placed) {
            case SettlementBatcher.Placement.Batched batched -> {
                log.info("Settlement of reservation {} submitted in a batch of {}: {} used of {} ({})",
                        settle.reservationId(), batched.members(), settle.used(), settle.reservation().amount(),
                        batched.transaction().hash());
                yield Mono.just(new EscrowSubmission.Submitted(batched.transaction()));
            }
            case SettlementBatcher.Placement.AlreadyLive live -> Mono.just(new EscrowSubmission.AlreadyLive(
                    live.transaction()));
            case SettlementBatcher.Placement.SendAlone alone -> sendAlone(settle);
            case SettlementBatcher.Placement.InFlight inFlight -> Mono.error(new IllegalStateException(
                    "the batcher answers a batch in flight only once its transaction is stored"));
        });
    }

    private Mono<EscrowSubmission> sendAlone(EscrowOperation operation) {
        return relayer.relay(operation.purpose(), operation.referenceId(), chain.escrowAddress(), operation.callData())
                .map(relayed -> switch (relayed) {
                    case Relayed.Submitted sent -> {
                        logSubmitted(operation, sent.transaction());
                        yield new EscrowSubmission.Submitted(sent.transaction());
                    }
                    // Found live under the relayer's lock: another instance (or caller) submitted it after our look.
                    case Relayed.AlreadyLive live -> new EscrowSubmission.AlreadyLive(live.transaction());
                });
    }

    /**
     * The transaction of this purpose for this reference that is on its way or done, if any. For a settlement, its own
     * settle transaction or the settleBatch transaction of the live batch it is a member of, whether batching is on now
     * or was before a restart.
     */
    public Mono<ChainTransaction> findLive(String referenceId, String purpose) {
        Mono<ChainTransaction> own = relayer.findLive(referenceId, purpose);
        return EscrowOperation.SETTLE_PURPOSE.equals(purpose)
                ? own.switchIfEmpty(Mono.defer(() -> batcher.findLive(referenceId)))
                : own;
    }

    /** A programmer's error, never an agent's: the callers decide the operation from the reservation they read. */
    private static IllegalStateException refusal(EscrowOperation operation) {
        return switch (operation) {
            case EscrowOperation.Deposit deposit -> null;
            case EscrowOperation.Credit credit -> null;
            case EscrowOperation.ReturnTransfer returned -> null;
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
            case EscrowOperation.ReturnTransfer returned -> log.info("Return of the stray x402 transfer of payment {} "
                    + "to its payer submitted: {}", returned.paymentId(), sent.hash());
            case EscrowOperation.Credit credit -> log.info("Credit of the x402 transfer of payment {} to reservation {} "
                    + "submitted: {}", credit.paymentId(), credit.reservationId(), sent.hash());
            case EscrowOperation.Settle settle -> log.info("Settlement of reservation {} submitted: {} used of {} ({})",
                    settle.reservationId(), settle.used(), settle.reservation().amount(), sent.hash());
            case EscrowOperation.Refund refund -> log.info("Refund of reservation {} submitted: {}",
                    refund.reservationId(), sent.hash());
        }
    }
}
