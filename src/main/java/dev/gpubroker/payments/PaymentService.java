package dev.gpubroker.payments;

import java.math.BigInteger;
import java.security.SignatureException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;
import org.springframework.transaction.reactive.TransactionalOperator;
import org.web3j.crypto.Sign;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.identity.Agent;
import dev.gpubroker.payments.PayOutcome.Accepted;
import dev.gpubroker.payments.PayOutcome.Reason;
import dev.gpubroker.payments.PayOutcome.Refused;
import dev.gpubroker.payments.chain.ChainContext;
import dev.gpubroker.payments.chain.Eip3009;
import dev.gpubroker.payments.chain.EscrowContract;
import dev.gpubroker.payments.chain.PaymentChain;
import dev.gpubroker.payments.chain.ReceiveAuthorization;
import dev.gpubroker.payments.chain.TransferAuthorization;
import dev.gpubroker.payments.relayer.ChainTransaction;
import dev.gpubroker.payments.relayer.RelayerRefusedException;
import dev.gpubroker.platform.idempotency.IdempotentCommand;
import dev.gpubroker.policy.PolicyService;
import dev.gpubroker.scheduler.Reservation;
import dev.gpubroker.scheduler.ReservationMark;
import dev.gpubroker.scheduler.ReservationService;
import dev.gpubroker.scheduler.ReservationState;
import dev.gpubroker.scheduler.Reservations;
import dev.gpubroker.wallet.WalletStore;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * Pays a held reservation into the escrow. Custodial agents: the server signs a ReceiveWithAuthorization from the
 * agent's wallet. Agents with their own wallet: their authorization and signature are checked (signer, amount,
 * payee, validity window, nonce, balance) before anything is submitted. Either way the relayer submits the deposit,
 * so agents need no ETH, and the reservation becomes paid only once the deposit has its confirmations.
 *
 * <p>One reservation is never paid twice: a payment claims the reservation (one claim at a time), the idempotency
 * key makes one payment whatever the retries, and the escrow itself refuses a second deposit for a reservation.
 */
@Service
public class PaymentService {

    private static final Logger log = LoggerFactory.getLogger(PaymentService.class);
    private static final Duration HOLD_LEFT_MIN = Duration.ofSeconds(15);
    private static final Duration OTHER_INSTANCE_POLL = Duration.ofSeconds(1);
    private static final int FRONT_RUN_LOOKS = 5;
    private static final Duration FRONT_RUN_LOOK_INTERVAL = Duration.ofSeconds(1);

    private final ReservationService reservationService;
    private final Reservations reservations;
    private final PaymentRepository payments;
    private final PaymentTerms terms;
    private final EscrowSubmissions submissions;
    private final WalletStore wallets;
    private final ChainContext chain;
    private final TransactionalOperator transaction;
    private final Clock clock;
    private final Duration confirmationWait;
    private final PolicyService policies;
    private final DirectTransfers directTransfers;
    private final PaymentOutcomeSignals outcomeSignals;
    private final boolean escrowTakesTransfers;

    public PaymentService(PolicyService policies, ReservationService reservationService, Reservations reservations,
            PaymentRepository payments, PaymentTerms terms, EscrowSubmissions submissions, WalletStore wallets,
            PaymentChain paymentChain, TransactionalOperator transaction, Clock clock, BrokerProperties properties,
            DirectTransfers directTransfers, PaymentOutcomeSignals outcomeSignals) {
        this.policies = policies;
        this.directTransfers = directTransfers;
        this.outcomeSignals = outcomeSignals;
        this.escrowTakesTransfers = paymentChain.escrowTakesTransfers();
        this.reservationService = reservationService;
        this.reservations = reservations;
        this.payments = payments;
        this.terms = terms;
        this.submissions = submissions;
        this.wallets = wallets;
        this.chain = paymentChain.context();
        this.transaction = transaction;
        this.clock = clock;
        this.confirmationWait = properties.chain().receiptTimeout().compareTo(Duration.ofSeconds(10)) < 0
                ? properties.chain().receiptTimeout() : Duration.ofSeconds(10);
    }

    public Mono<PayOutcome> pay(Agent agent, String reservationId, String idempotencyKey,
            Optional<SignedAuthorization> signed) {
        IdempotentCommand<Payment, PayOutcome> command = IdempotentCommand.keyedBy(
                () -> payments.findByIdempotencyKey(agent.agentId(), idempotencyKey),
                existing -> replay(existing, reservationId));
        return command.run(() -> payNew(agent, reservationId, idempotencyKey, signed));
    }

    public Mono<Payment> find(String paymentId) {
        return payments.findById(paymentId);
    }

    /**
     * What a stock x402 client needs to pay this agent's reservation (PaymentTerms#x402RequirementsFor), while it is
     * held; empty for a reservation the agent does not have or that cannot be paid now.
     */
    public Mono<X402Offer> x402Offer(Agent agent, String reservationId) {
        return reservationService.findForAgent(agent.agentId(), reservationId)
                .filter(reservation -> reservation.state() == ReservationState.HELD)
                .map(reservation -> new X402Offer(reservation.reservationId(), reservation.amount().toDecimalString(),
                        terms.x402RequirementsFor(reservation), terms.chainId()));
    }

    /** The chain payments go to, as x402 names it by number. */
    public long chainId() {
        return terms.chainId();
    }

    /** A held reservation's x402 offer: its id and amount (decimal USDC), and the stock requirements. */
    public record X402Offer(String reservationId, String amountUsdc, PaymentRequirements requirements, long chainId) {
    }

    private PayOutcome replay(Payment existing, String reservationId) {
        if (!existing.reservationId().equals(reservationId)) {
            return new Refused(Reason.IDEMPOTENCY_KEY_REUSED, "this idempotencyKey was already used for payment "
                    + existing.paymentId() + " of reservation " + existing.reservationId(), "idempotencyKey",
                    "use a new idempotencyKey for another payment, or the same arguments to see this one");
        }
        return new Accepted(existing, true);
    }

    private Mono<PayOutcome> payNew(Agent agent, String reservationId, String idempotencyKey,
            Optional<SignedAuthorization> signed) {
        return policies.spendingBlocked(agent.agentId()).flatMap(blocked -> blocked.isPresent()
                ? Mono.just(new Refused(Reason.valueOf(blocked.get().code().name()), blocked.get().message(), null,
                        "nothing can be paid now; ask the operator"))
                : payAllowed(agent, reservationId, idempotencyKey, signed));
    }

    private Mono<PayOutcome> payAllowed(Agent agent, String reservationId, String idempotencyKey,
            Optional<SignedAuthorization> signed) {
        return reservationService.findForAgent(agent.agentId(), reservationId)
                .flatMap(reservation -> checkPayable(reservation)
                        .map(Mono::just)
                        .orElseGet(() -> authorize(agent, reservation, signed)
                                .flatMap(authorized -> authorized.refusal() != null
                                        ? Mono.just(authorized.refusal())
                                        : submit(agent, reservation, idempotencyKey, authorized))))
                .switchIfEmpty(Mono.fromSupplier(() -> notFound(reservationId)));
    }

    private static Refused signatureRequired(Agent agent) {
        return new Refused(Reason.SIGNATURE_REQUIRED, "this agent holds its own wallet " + agent.walletAddress()
                + ", so it pays from it itself", "authorization", "pay with an x402 client: this answer's "
                + "structuredContent is the x402 PaymentRequired; retry the call with the signed payment in "
                + "_meta[\"x402/payment\"]. Or sign an EIP-3009 ReceiveWithAuthorization with the domain, payTo, "
                + "amount, nonce and validBefore from the reservation's paymentRequirements and call pay with "
                + "authorization and signature");
    }

    private static Refused notFound(String reservationId) {
        return new Refused(Reason.RESERVATION_NOT_FOUND, "no reservation " + reservationId + " exists for this agent",
                "reservationId", "use a reservationId from reserve or account");
    }

    private Optional<PayOutcome> checkPayable(Reservation reservation) {
        ReservationState state = reservation.state();
        if (state == ReservationState.PAID || state == ReservationState.RUNNING || state == ReservationState.SETTLED
                || state == ReservationState.REFUNDED) {
            return Optional.of(new Refused(Reason.ALREADY_PAID, "reservation " + reservation.reservationId()
                    + " is already paid (payment " + reservation.paymentId() + ")", "reservationId",
                    "nothing to pay; run a job on it, or call account to see it"));
        }
        if (state != ReservationState.HELD) {
            return Optional.of(new Refused(Reason.NOT_PAYABLE, "reservation " + reservation.reservationId() + " is "
                    + state.wireName() + " and cannot be paid", "reservationId",
                    state == ReservationState.APPROVAL_REQUIRED ? "wait until a person approves it"
                            : "call quote and reserve again"));
        }
        if (reservation.cancelRequested()) {
            return Optional.of(new Refused(Reason.NOT_PAYABLE, "reservation " + reservation.reservationId()
                    + " is being cancelled and cannot be paid", "reservationId", "call quote and reserve again"));
        }
        if (reservation.paymentId() != null) {
            return Optional.of(new Refused(Reason.PAYMENT_IN_PROGRESS, "payment " + reservation.paymentId()
                    + " of this reservation is in progress", "reservationId",
                    "retry the call that started it (same idempotencyKey) to see its status"));
        }
        if (Duration.between(clock.instant(), reservation.holdExpiresAt()).compareTo(HOLD_LEFT_MIN) < 0) {
            return Optional.of(new Refused(Reason.NOT_PAYABLE, "the hold of reservation " + reservation.reservationId()
                    + " expires at " + reservation.holdExpiresAt() + ", too soon to pay safely", "reservationId",
                    "call quote and reserve again"));
        }
        return Optional.empty();
    }

    /**
     * A payment ready to submit: its authorization, signature and method, and whether the escrow pulls it (a deposit)
     * or records a transfer that already reached it ({@code credit}); or the refusal.
     */
    private record Authorized(ReceiveAuthorization authorization, String signature, Payment.Method method,
            boolean credit, PayOutcome refusal) {

        Authorized(ReceiveAuthorization authorization, String signature, Payment.Method method) {
            this(authorization, signature, method, false, null);
        }

        static Authorized refused(Reason reason, String message, String field, String nextStep) {
            return new Authorized(null, null, null, false, new Refused(reason, message, field, nextStep));
        }

        Authorized asCredit() {
            return new Authorized(authorization, signature, method, true, null);
        }
    }

    private Mono<Authorized> authorize(Agent agent, Reservation reservation, Optional<SignedAuthorization> signed) {
        EscrowTerms escrow = terms.escrowTerms(reservation);
        BigInteger amount = BigInteger.valueOf(reservation.amount().micros());
        if (signed.isEmpty()) {
            if (agent.custody() != Agent.WalletCustody.CUSTODIAL) {
                Refused refused = signatureRequired(agent);
                return Mono.just(Authorized.refused(refused.reason(), refused.message(), refused.field(),
                        refused.nextStep()));
            }
            ReceiveAuthorization authorization = new ReceiveAuthorization(agent.walletAddress(), chain.escrowAddress(),
                    amount, BigInteger.ZERO, escrow.validBefore(), escrow.nonce());
            return Mono.fromCallable(() -> chain.usdcAuthorizations().sign(authorization,
                            wallets.credentials(agent.walletLabel())))
                    .subscribeOn(Schedulers.boundedElastic())
                    .flatMap(signature -> checkFunds(new Authorized(authorization, signature, Payment.Method.CUSTODIAL)));
        }
        Authorized verified = verify(agent, signed.get(), escrow, amount);
        if (verified.refusal() != null) {
            return Mono.just(verified);
        }
        return verified.method() == Payment.Method.SIGNED_TRANSFER
                ? notPayingAnother(verified).switchIfEmpty(Mono.defer(() -> checkFunds(verified)))
                : checkFunds(verified);
    }

    /** An x402 transfer pays one reservation: the same authorization sent again for another is a replay. */
    private Mono<Authorized> notPayingAnother(Authorized verified) {
        ReceiveAuthorization authorization = verified.authorization();
        return payments.findLiveByAuthorization(authorization.from(), authorization.nonce())
                .map(earlier -> Authorized.refused(Reason.INVALID_AUTHORIZATION, "this authorization already pays "
                        + "reservation " + earlier.reservationId() + " (payment " + earlier.paymentId() + ")",
                        "authorization.nonce", "sign a new authorization for this reservation"));
    }

    private Authorized verify(Agent agent, SignedAuthorization signed, EscrowTerms escrow, BigInteger amount) {
        ReceiveAuthorization authorization = signed.authorization();
        long now = clock.instant().getEpochSecond();
        if (!authorization.to().equalsIgnoreCase(chain.escrowAddress())) {
            return refuse("authorization.to", "the authorization pays " + authorization.to() + ", not the escrow "
                    + chain.escrowAddress());
        }
        if (!authorization.value().equals(amount)) {
            return refuse("authorization.value", "the authorization is for " + authorization.value()
                    + " atomic units; this reservation costs " + amount);
        }
        if (agent.walletAddress() == null || !authorization.from().equalsIgnoreCase(agent.walletAddress())) {
            return refuse("authorization.from", "the authorization is from " + authorization.from()
                    + ", not from this agent's registered wallet " + agent.walletAddress());
        }
        if (authorization.validAfter().longValueExact() > now) {
            return refuse("authorization.validAfter", "the authorization is not valid before "
                    + Instant.ofEpochSecond(authorization.validAfter().longValueExact()));
        }
        if (authorization.validBefore().compareTo(BigInteger.valueOf(now + HOLD_LEFT_MIN.toSeconds())) < 0) {
            return refuse("authorization.validBefore", "the authorization expires at "
                    + Instant.ofEpochSecond(authorization.validBefore().longValueExact()) + ", too soon to be submitted");
        }
        // Which EIP-3009 message the payer signed: a receive bound to the escrow terms by its nonce (the reservation's
        // own paymentRequirements), or a transfer to the escrow with a nonce of its own (stock x402 clients).
        Optional<Eip3009.Kind> kind;
        try {
            kind = chain.usdcAuthorizations().signedBy(authorization, signed.signature());
        } catch (SignatureException | RuntimeException e) {
            return refuse("signature", "the signature is malformed: " + e.getMessage());
        }
        if (kind.isEmpty()) {
            return refuse("signature", "the signature was not made by " + authorization.from() + " over this "
                    + "authorization as a ReceiveWithAuthorization or a TransferWithAuthorization (wrong key, wrong "
                    + "fields or wrong EIP-712 domain)");
        }
        if (kind.get() == Eip3009.Kind.TRANSFER && !escrowTakesTransfers) {
            return refuse("signature", "this server's escrow " + chain.escrowAddress() + " predates deposits of a "
                    + "TransferWithAuthorization: sign a ReceiveWithAuthorization with the reservation's "
                    + "paymentRequirements instead");
        }
        if (kind.get() == Eip3009.Kind.RECEIVE && !authorization.nonce().equalsIgnoreCase(escrow.nonce())) {
            return refuse("authorization.nonce", "the nonce must be the one in paymentRequirements.extra.nonce ("
                    + escrow.nonce() + "): it binds the payment to this reservation's escrow terms");
        }
        return new Authorized(authorization, signed.signature(), kind.get() == Eip3009.Kind.RECEIVE
                ? Payment.Method.SIGNED_BY_AGENT : Payment.Method.SIGNED_TRANSFER);
    }

    private static Authorized refuse(String field, String message) {
        return Authorized.refused(Reason.INVALID_AUTHORIZATION, message, field,
                "sign again with the values in the reservation's paymentRequirements");
    }

    /**
     * Balance and nonce, checked on chain before anything is submitted. A transfer whose nonce is used already may
     * have been submitted straight to the token by whoever saw it: when its money reached the escrow without a deposit,
     * the payment credits it instead of pulling it ({@link DirectTransfers}); otherwise (used elsewhere, or cancelled)
     * it is refused.
     */
    private Mono<Authorized> checkFunds(Authorized authorized) {
        ReceiveAuthorization authorization = authorized.authorization();
        Authorized usedUp = Authorized.refused(Reason.INVALID_AUTHORIZATION, "this authorization nonce was already "
                + "used or cancelled", "authorization.nonce", "nothing to do if this reservation is paid; otherwise "
                + "sign a new authorization (or reserve again)");
        return chain.usdc().authorizationUsed(authorization.from(), authorization.nonce())
                .flatMap(used -> {
                    if (used) {
                        return authorized.method() != Payment.Method.SIGNED_TRANSFER ? Mono.just(usedUp)
                                : directTransfers.unattributed(authorization)
                                        .map(found -> found.isPresent() ? authorized.asCredit() : usedUp);
                    }
                    return chain.usdc().balanceOf(authorization.from()).map(balance -> balance.compareTo(authorization.value()) < 0
                            ? Authorized.refused(Reason.INSUFFICIENT_USDC, "wallet " + authorization.from()
                                    + " holds " + balance + " atomic units of USDC; this payment needs "
                                    + authorization.value(), null, "send USDC to " + authorization.from() + " on "
                                    + chain.network() + ", then call pay again")
                            : authorized);
                });
    }

    private Mono<PayOutcome> submit(Agent agent, Reservation reservation, String idempotencyKey, Authorized authorized) {
        EscrowTerms escrow = terms.escrowTerms(reservation);
        Instant now = clock.instant();
        Payment payment = new Payment("pay_" + UUID.randomUUID().toString().replace("-", ""), reservation.reservationId(),
                agent.agentId(), idempotencyKey, authorized.method(), reservation.amount(), authorized.authorization().from(),
                escrow.payee(), escrow.deadline().longValueExact(), authorized.authorization().nonce(),
                Payment.Status.PENDING, null, null, now, now);
        Mono<Boolean> claim = reservations.claimForPayment(reservation.reservationId(), payment.paymentId())
                .map(ReservationMark::marked)
                .flatMap(claimed -> claimed ? payments.insert(payment).thenReturn(true) : Mono.just(false));
        return transaction.transactional(claim)
                .flatMap(claimed -> !claimed
                        ? reservationService.findForAgent(agent.agentId(), reservation.reservationId())
                                .map(current -> checkPayable(current).orElse(new Refused(Reason.PAYMENT_IN_PROGRESS,
                                        "another payment of this reservation is in progress", "reservationId",
                                        "retry in a few seconds")))
                        : deposit(payment, escrow, authorized));
    }

    private Mono<PayOutcome> deposit(Payment payment, EscrowTerms escrow, Authorized authorized) {
        EscrowOperation operation;
        String transferCall = null;
        try {
            Sign.SignatureData signature = Eip3009.split(authorized.signature());
            ReceiveAuthorization authorization = authorized.authorization();
            if (payment.method() == Payment.Method.SIGNED_TRANSFER) {
                transferCall = EscrowContract.depositTransfer(escrow.reservationKey(), new TransferAuthorization(
                        authorization.from(), authorization.to(), authorization.value(), authorization.validAfter(),
                        authorization.validBefore(), authorization.nonce()), escrow.payee(), escrow.deadline(), signature);
                operation = authorized.credit()
                        ? new EscrowOperation.Credit(payment.paymentId(), payment.reservationId(),
                                TransferDeposits.creditOf(transferCall))
                        : new EscrowOperation.Deposit(payment.paymentId(), payment.reservationId(), transferCall);
            } else {
                operation = new EscrowOperation.Deposit(payment.paymentId(), payment.reservationId(),
                        EscrowContract.deposit(escrow.reservationKey(), authorization, escrow.payee(), escrow.deadline(),
                                signature));
            }
        } catch (SignatureException e) {
            return fail(payment, e.getMessage()).thenReturn(new Refused(Reason.INVALID_AUTHORIZATION, e.getMessage(),
                    "signature", "sign again"));
        }
        // A stock transfer's call is kept with its payment: should the payment fail, a copy of the signed transfer that
        // someone submits later is recognised by it and sent back to its payer (StrayTransfers).
        Mono<Void> kept = transferCall == null ? Mono.empty() : payments.keepTransferCall(payment.paymentId(), transferCall);
        return kept.then(submit(payment, operation, List.of(Payment.Status.PENDING)))
                .then(awaitOutcome(payment.paymentId()))
                .onErrorResume(RelayerRefusedException.class, refused -> failOrCredit(payment, operation,
                                refused.getMessage())
                        .then(payments.findById(payment.paymentId()))
                        .flatMap(current -> current.status() == Payment.Status.FAILED
                                ? Mono.just(new Refused(Reason.CHAIN_REFUSED, "the deposit was not submitted: "
                                        + refused.getMessage(), null, "nothing moved; check the authorization and the "
                                        + "wallet's balance, then call pay again with a new idempotencyKey"))
                                : awaitOutcome(payment.paymentId())));
    }

    private Mono<Boolean> submit(Payment payment, EscrowOperation operation, List<Payment.Status> from) {
        return submissions.submit(operation)
                .map(EscrowSubmission::transaction)
                .flatMap(sent -> payments.transition(payment.paymentId(), from, Payment.Status.SUBMITTED, sent.hash(),
                                null, clock.instant())
                        .doOnNext(moved -> log.info("Payment {} of reservation {} submitted: {} ({} USDC from {}{})",
                                payment.paymentId(), payment.reservationId(), sent.hash(),
                                payment.amount().toDecimalString(), payment.payer(),
                                operation instanceof EscrowOperation.Credit ? ", crediting a transfer that reached the "
                                        + "escrow directly" : "")));
    }

    /**
     * A deposit that the node refused or that reverted: for a stock x402 transfer, whoever saw the signed
     * authorization may have submitted it straight to the token first. Its money is then in the escrow, attributed to
     * nobody, and the payment credits it ({@link DirectTransfers}, GpuEscrow.creditTransfer) instead of failing.
     * Anything else fails the payment (nothing moved).
     */
    Mono<Void> failOrCredit(Payment payment, ChainTransaction failed, String reason) {
        return failOrCredit(payment, new EscrowOperation.Deposit(payment.paymentId(), payment.reservationId(),
                failed.callData()), reason);
    }

    private Mono<Void> failOrCredit(Payment payment, EscrowOperation failed, String reason) {
        if (payment.method() != Payment.Method.SIGNED_TRANSFER || !(failed instanceof EscrowOperation.Deposit pull)) {
            return fail(payment, reason);
        }
        ReceiveAuthorization sent = new ReceiveAuthorization(payment.payer(), chain.escrowAddress(),
                BigInteger.valueOf(payment.amount().micros()), BigInteger.ZERO, BigInteger.ZERO,
                payment.authorizationNonce());
        // The front-run may still be pending when the node refuses ours (it estimates against pending state): look
        // again for a few blocks before failing, so its money does not stay in the escrow for nobody.
        return Flux.range(0, FRONT_RUN_LOOKS)
                .concatMap(look -> Mono.delay(look == 0 ? Duration.ZERO : FRONT_RUN_LOOK_INTERVAL)
                        .then(directTransfers.unattributed(sent)))
                .filter(Optional::isPresent)
                .next()
                .defaultIfEmpty(Optional.empty())
                .flatMap(found -> found.isEmpty() ? fail(payment, reason)
                        : submit(payment, new EscrowOperation.Credit(payment.paymentId(), payment.reservationId(),
                                        TransferDeposits.creditOf(pull.callData())),
                                List.of(Payment.Status.PENDING, Payment.Status.SUBMITTED))
                                .then()
                                .onErrorResume(RelayerRefusedException.class, refused -> fail(payment,
                                        reason + "; crediting the transfer that reached the escrow was refused too: "
                                                + refused.getMessage())));
    }

    /** Waits a little for the confirmation, so most calls answer 'confirmed'; a retry later shows the final status. */
    private Mono<PayOutcome> awaitOutcome(String paymentId) {
        // Read at once, when this instance records the outcome, and once a second for an outcome another instance
        // recorded; a signal or tick that comes while a read is under way is dropped, the next one reads again.
        return Flux.merge(Flux.interval(Duration.ZERO, OTHER_INSTANCE_POLL), outcomeSignals.of(paymentId))
                .onBackpressureDrop()
                .concatMap(tick -> payments.findById(paymentId), 1)
                .takeUntil(current -> current.status() == Payment.Status.CONFIRMED || current.status() == Payment.Status.FAILED)
                .take(confirmationWait)
                .last()
                .map(current -> (PayOutcome) new Accepted(current, false));
    }

    /** A payment that moved nothing: failed, and the reservation free to be paid again or to expire. */
    Mono<Void> fail(Payment payment, String reason) {
        return transaction.transactional(payments.transition(payment.paymentId(),
                        List.of(Payment.Status.PENDING, Payment.Status.SUBMITTED), Payment.Status.FAILED, null, reason,
                        clock.instant())
                .flatMap(moved -> moved ? reservations.releasePaymentClaim(payment.reservationId(), payment.paymentId())
                        : Mono.empty()))
                .doOnSuccess(ignored -> {
                    log.warn("Payment {} of reservation {} failed: {}", payment.paymentId(), payment.reservationId(),
                            reason);
                    outcomeSignals.recorded(payment.paymentId());
                })
                // A cancel that came while this payment was under way waited for it: nothing was paid, so cancel now.
                .then(Mono.defer(() -> reservations.findById(payment.reservationId())))
                .filter(reservation -> reservation.cancelRequested() && reservation.paymentId() == null)
                .flatMap(reservation -> reservationService.cancelUnpaid(reservation, "its agent (after its payment failed)"))
                .then();
    }
}
