package dev.gpubroker.scheduler;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.stereotype.Service;
import org.springframework.transaction.reactive.TransactionalOperator;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.market.ComputeProvider;
import dev.gpubroker.money.PricePerGpuHour;
import dev.gpubroker.market.HoldOutcome;
import dev.gpubroker.market.HoldRequest;
import dev.gpubroker.market.ProviderCatalog;
import dev.gpubroker.market.Quote;
import dev.gpubroker.market.QuoteService;
import dev.gpubroker.platform.idempotency.IdempotentCommand;
import dev.gpubroker.policy.PolicyService;
import dev.gpubroker.policy.PolicyViolation;
import dev.gpubroker.scheduler.ReserveOutcome.Reason;
import dev.gpubroker.scheduler.ReserveOutcome.Refused;
import dev.gpubroker.scheduler.ReserveOutcome.Reserved;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Turns a quote into a reservation: capacity held at the provider for the quoted price until the hold expires.
 *
 * <p>Crash safety: the reservation row is written first, in state {@code PENDING_HOLD}, in the same transaction that
 * takes the quote; it claims the idempotency key before anything happens at the provider. The provider hold is
 * named by the reservation id, so it is idempotent. A crash between the two leaves a pending row that
 * {@link ReservationTimers} finds, releases at the provider and removes, so the key can be used again.
 */
@Service
public class ReservationService {

    private static final Logger log = LoggerFactory.getLogger(ReservationService.class);

    private final QuoteService quotes;
    private final ReservationRepository reservations;
    private final ProviderCatalog providers;
    private final TransactionalOperator transaction;
    private final Clock clock;
    private final Duration holdTtl;
    private final Duration providerTimeout;
    private final int maxOpenPerAgent;
    private final PolicyService policies;
    private final ApprovalService approvals;

    public ReservationService(QuoteService quotes, ReservationRepository reservations,
            ProviderCatalog providers, TransactionalOperator transaction, Clock clock, BrokerProperties properties,
            PolicyService policies, ApprovalService approvals) {
        this.policies = policies;
        this.approvals = approvals;
        this.quotes = quotes;
        this.reservations = reservations;
        this.providers = providers;
        this.transaction = transaction;
        this.clock = clock;
        this.holdTtl = properties.reservations().holdTtl();
        this.providerTimeout = properties.market().providerTimeout();
        this.maxOpenPerAgent = properties.reservations().maxOpenPerAgent();
    }

    public Mono<ReserveOutcome> reserve(String agentId, String quoteId, String idempotencyKey) {
        IdempotentCommand<Reservation, ReserveOutcome> command = reserveCommand(agentId, quoteId, idempotencyKey);
        return command.run(() -> reserveNew(agentId, quoteId, idempotencyKey, command));
    }

    private IdempotentCommand<Reservation, ReserveOutcome> reserveCommand(String agentId, String quoteId,
            String idempotencyKey) {
        return IdempotentCommand.keyedBy(() -> reservations.findByIdempotencyKey(agentId, idempotencyKey),
                existing -> replay(existing, quoteId));
    }

    /** A reservation of this agent, or empty when unknown or another agent's (the two look the same). */
    public Mono<Reservation> findForAgent(String agentId, String reservationId) {
        return reservations.findById(reservationId)
                .filter(reservation -> reservation.agentId().equals(agentId)
                        && reservation.state() != ReservationState.PENDING_HOLD);
    }

    /** For the operator: any agent's reservation. */
    public Mono<Reservation> find(String reservationId) {
        return reservations.findById(reservationId).filter(reservation -> reservation.state() != ReservationState.PENDING_HOLD);
    }

    public Flux<Reservation> list(String agentId, ReservationState state, int limit, int offset) {
        return reservations.list(agentId, state, limit, offset);
    }

    /**
     * Cancels a reservation nobody is paying: held or awaiting approval, with no payment under way. Its capacity and
     * budget are released (the capacity by the timers, within a sweep).
     */
    public Mono<ReservationMove> cancelUnpaid(Reservation reservation, String by) {
        ReservationMove unchanged = new ReservationMove.Unchanged(reservation.reservationId(), "cancel it unpaid");
        if (reservation.state() != ReservationState.HELD && reservation.state() != ReservationState.APPROVAL_REQUIRED) {
            return Mono.just(unchanged);
        }
        return transaction.transactional(reservations.closeUnpaid(reservation.reservationId(), reservation.state(),
                        ReservationState.CANCELLED, "cancelled by " + by, clock.instant())
                .flatMap(cancelled -> cancelled
                        ? policies.releaseBudget(reservation.reservationId())
                                .thenReturn((ReservationMove) new ReservationMove.Moved(reservation.reservationId(),
                                        ReservationState.CANCELLED))
                        : Mono.just(unchanged)));
    }

    /**
     * Marks the reservation as asked to be cancelled, before the cancel acts: from then on it takes no payment and
     * starts no job. Not marked when it is no longer open.
     */
    public Mono<ReservationMark> requestCancel(String reservationId) {
        return reservations.requestCancel(reservationId, clock.instant())
                .map(marked -> ReservationMark.of(reservationId, marked));
    }

    private ReserveOutcome replay(Reservation existing, String quoteId) {
        if (!existing.quoteId().equals(quoteId)) {
            return new Refused(Reason.IDEMPOTENCY_KEY_REUSED,
                    "this idempotencyKey was already used for reservation " + existing.reservationId() + " of quote "
                            + existing.quoteId() + ", not for quote " + quoteId,
                    "use a new idempotencyKey for a new reservation, or the same arguments to get the earlier result");
        }
        if (existing.state() == ReservationState.PENDING_HOLD) {
            return new Refused(Reason.IN_PROGRESS, "a reserve call with this idempotencyKey is still in progress",
                    "retry the same call in 2 seconds");
        }
        return new Reserved(existing, true);
    }

    private Mono<ReserveOutcome> reserveNew(String agentId, String quoteId, String idempotencyKey,
            IdempotentCommand<Reservation, ReserveOutcome> command) {
        Instant now = clock.instant();
        return quotes.findForAgent(agentId, quoteId)
                .flatMap(quote -> {
                    if (quote.isExpiredAt(now)) {
                        return Mono.just(refused(Reason.QUOTE_EXPIRED, "quote " + quoteId + " expired at "
                                + quote.expiresAt(), "call quote again for a fresh quote, then reserve it"));
                    }
                    ComputeProvider provider = providers.find(quote.provider()).orElse(null);
                    if (provider == null) {
                        return Mono.just(refused(Reason.PROVIDER_UNAVAILABLE, "provider " + quote.provider()
                                + " is no longer enabled on this server", "call quote again and pick another offer"));
                    }
                    return reservations.countOpen(agentId).flatMap(open -> open >= maxOpenPerAgent
                            ? Mono.just(refused(Reason.TOO_MANY_OPEN_RESERVATIONS, "this agent already has " + open
                                    + " open reservations (at most " + maxOpenPerAgent + ")",
                                    "cancel or let unused reservations expire, then retry"))
                            : claim(agentId, quote, idempotencyKey, now, provider, command));
                })
                .switchIfEmpty(Mono.fromSupplier(() -> refused(Reason.QUOTE_NOT_FOUND, "no quote " + quoteId
                        + " exists for this agent", "call quote and use a quoteId from its answer")));
    }

    private Mono<ReserveOutcome> claim(String agentId, Quote quote, String idempotencyKey, Instant now,
            ComputeProvider provider, IdempotentCommand<Reservation, ReserveOutcome> command) {
        Reservation pending = new Reservation("res_" + UUID.randomUUID().toString().replace("-", ""), agentId,
                idempotencyKey, quote.quoteId(), ReservationState.PENDING_HOLD, quote.provider(), quote.offerId(),
                quote.gpuCount(), quote.total(), now, now, now.plus(holdTtl), false, null, quote.durationMinutes(), null, null,
                false);
        // One transaction: taking the quote (a retry with the same key stops here), the policy check and the budget
        // hold under the agent's lock, and the reservation row that claims the idempotency key. A refusal rolls all
        // of it back.
        Mono<Claim> claimed = quotes.markReserved(quote.quoteId(), pending.reservationId())
                .flatMap(took -> !took.taken()
                        ? Mono.error(new QuoteTaken())
                        : policies.holdBudget(agentId, pending.reservationId(), quote.provider(), quote.gpu(),
                                        quote.price(), quote.total())
                                .flatMap(check -> check.allowed()
                                        ? reservations.insert(pending).thenReturn(new Claim(true, check.approvalRequired()))
                                        : Mono.error(new PolicyRefusal(check.violations().getFirst()))));
        return transaction.transactional(claimed)
                .onErrorResume(QuoteTaken.class, taken -> Mono.just(new Claim(false, false)))
                .flatMap(claim -> claim.took()
                        ? holdAtProvider(pending, quote.price(), provider, claim.approvalRequired())
                        // Taken: by a concurrent call with this very key (then answer as a retry), or by another.
                        : command.replayed().defaultIfEmpty(refused(Reason.QUOTE_ALREADY_RESERVED, "quote "
                                + quote.quoteId() + " is already reserved", "call quote again for a fresh quote")))
                .onErrorResume(PolicyRefusal.class, refusal -> Mono.just(refused(
                        Reason.valueOf(refusal.violation().code().name()), refusal.violation().message(),
                        nextStepFor(refusal.violation()))));
    }

    private record Claim(boolean took, boolean approvalRequired) {
    }

    /** Rolls the claim's transaction back: the quote was taken meanwhile. */
    private static final class QuoteTaken extends RuntimeException {
        QuoteTaken() {
            super(null, null, false, false);
        }
    }

    /** Rolls the claim's transaction back: the policy refuses. */
    private static final class PolicyRefusal extends RuntimeException {
        private final PolicyViolation violation;

        PolicyRefusal(PolicyViolation violation) {
            super(violation.message(), null, false, false);
            this.violation = violation;
        }

        PolicyViolation violation() {
            return violation;
        }
    }

    private static String nextStepFor(PolicyViolation violation) {
        return switch (violation.code()) {
            case KILL_SWITCH, AGENT_FROZEN -> "nothing can be bought now; ask the operator";
            case PROVIDER_NOT_ALLOWED, GPU_NOT_ALLOWED, OVER_MAX_PRICE_PER_GPU_HOUR ->
                    "pick a quote the policy allows: quote marks each one with policy.allowed";
            case OVER_MAX_PER_RESERVATION -> "reserve a shorter duration or fewer GPUs, or ask the operator";
            case OVER_DAILY_LIMIT, OVER_TOTAL_LIMIT -> "wait for budget to free up (account shows what is left), "
                    + "or ask the operator to raise the limit";
        };
    }

    private Mono<ReserveOutcome> holdAtProvider(Reservation pending, PricePerGpuHour quotedPrice, ComputeProvider provider,
            boolean approvalRequired) {
        HoldRequest request = new HoldRequest(pending.holdId(), pending.offerId(), pending.gpuCount(),
                pending.holdExpiresAt(), quotedPrice);
        return Mono.defer(() -> provider.holds().hold(request))
                .timeout(providerTimeout)
                .flatMap(outcome -> switch (outcome) {
                    case HoldOutcome.Held held -> confirm(pending, provider, approvalRequired);
                    case HoldOutcome.NoCapacity noCapacity -> drop(pending).thenReturn(refused(Reason.NO_CAPACITY,
                            noCapacity.reason(), "call quote again and reserve another offer"));
                    case HoldOutcome.Unholdable unholdable -> drop(pending).thenReturn(refused(
                            Reason.OFFER_UNAVAILABLE, unholdable.reason(), "call quote again and reserve another offer"));
                })
                .onErrorResume(error -> !(error instanceof IllegalTransitionException), error -> {
                    log.warn("Hold for reservation {} at {} failed: {}", pending.reservationId(), provider.name(),
                            error.toString());
                    // The hold may have happened before the failure: release it (idempotent), then drop the claim.
                    // If that fails too, the pending row stays and ReservationTimers cleans it up later.
                    return provider.holds().release(pending.holdId()).timeout(providerTimeout)
                            .then(drop(pending))
                            .onErrorResume(cleanupError -> Mono.empty())
                            .thenReturn(refused(Reason.PROVIDER_UNAVAILABLE, "provider " + provider.name()
                                    + " did not confirm the hold in time", "retry the same call, or reserve another offer"));
                });
    }

    private Mono<ReserveOutcome> confirm(Reservation pending, ComputeProvider provider, boolean approvalRequired) {
        Instant now = clock.instant();
        ReservationState next = approvalRequired ? ReservationState.APPROVAL_REQUIRED : ReservationState.HELD;
        Mono<Boolean> transition = reservations.transition(pending.reservationId(), ReservationState.PENDING_HOLD, next,
                approvalRequired ? "above the agent's approval threshold: waiting for a person's decision" : null, now);
        return transaction.transactional(transition.flatMap(done -> done && approvalRequired
                        ? approvals.open(pending).thenReturn(true) : Mono.just(done)))
                .flatMap(moved -> {
                    if (!moved) {
                        // The abandoned-claim cleanup took it first (this call was very slow): nothing is held.
                        return provider.holds().release(pending.holdId()).thenReturn(refused(Reason.PROVIDER_UNAVAILABLE,
                                "the hold took too long and was abandoned", "retry with a new idempotencyKey"));
                    }
                    log.info("Reservation {} {} {} x {} at {} for {} until {}", pending.reservationId(),
                            next.wireName(), pending.gpuCount(), pending.offerId(), pending.provider(), pending.amount(),
                            pending.holdExpiresAt());
                    return reservations.findById(pending.reservationId()).map(held -> new Reserved(held, false));
                });
    }

    /** Removes a claim that never held anything, gives its quote back and drops its budget hold. */
    Mono<Void> drop(Reservation pending) {
        return transaction.transactional(reservations.deletePending(pending.reservationId())
                .flatMap(deleted -> deleted
                        ? quotes.clearReserved(pending.quoteId(), pending.reservationId())
                                .then(policies.dropBudget(pending.reservationId()))
                        : Mono.empty()));
    }

    private static ReserveOutcome refused(Reason reason, String message, String nextStep) {
        return new Refused(reason, message, nextStep);
    }
}
