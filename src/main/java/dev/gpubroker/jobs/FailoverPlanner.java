package dev.gpubroker.jobs;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.springframework.stereotype.Component;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.market.ComputeProvider;
import dev.gpubroker.market.HoldOutcome;
import dev.gpubroker.market.HoldRequest;
import dev.gpubroker.market.OfferQuery;
import dev.gpubroker.market.ProviderCatalog;
import dev.gpubroker.market.Quote;
import dev.gpubroker.market.QuoteRequest;
import dev.gpubroker.market.QuoteService;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.payments.PaymentTerms;
import dev.gpubroker.policy.PolicyService;
import dev.gpubroker.policy.PolicyViolation;
import dev.gpubroker.scheduler.Reservation;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;

/**
 * Decides where a job goes after a provider's fault. The candidates are today's live offers for the same GPU model,
 * count and at least the same memory, best expected cost first (the ranking quotes use), without any provider that
 * already failed this job. A candidate is taken only when the agent's policy allows it and the whole run at its price
 * fits the money already in escrow, so a failover never costs the agent more than it paid; the first candidate that can
 * be held wins. Every candidate passed over is named with its reason, so the choice can be read in the job's events.
 */
@Component
class FailoverPlanner {

    private static final int CANDIDATES_MAX = 20;
    private static final int HOLD_TRIES_MAX = 3;

    /** What to do after a fault: move to a held offer, or stay (and refund), each with its reason. */
    sealed interface Decision {

        record Move(Quote offer, String holdId, String why) implements Decision {
        }

        record Stay(String why) implements Decision {
        }
    }

    private final QuoteService quoteService;
    private final PolicyService policies;
    private final ProviderCatalog providers;
    private final PaymentTerms terms;
    private final Clock clock;
    private final Duration providerTimeout;
    private final int maxFailovers;
    private final Duration deadlineMargin;

    FailoverPlanner(QuoteService quoteService, PolicyService policies, ProviderCatalog providers,
            PaymentTerms terms, Clock clock, BrokerProperties properties) {
        this.quoteService = quoteService;
        this.policies = policies;
        this.providers = providers;
        this.terms = terms;
        this.clock = clock;
        this.providerTimeout = properties.market().providerTimeout();
        this.maxFailovers = properties.jobs().maxFailovers();
        this.deadlineMargin = properties.jobs().escrowDeadlineMargin();
    }

    /**
     * @param faultedProvider the provider that just failed the job
     * @param environmentKnown whether this server still has the job's environment (it is never stored)
     */
    Mono<Decision> plan(Job job, Reservation reservation, String faultedProvider, boolean environmentKnown) {
        if (job.cancelRequested()) {
            return stay("the job was cancelled");
        }
        if (job.attempt() > maxFailovers) {
            return stay("it already moved " + maxFailovers + " time(s), the most allowed (gpubroker.jobs.max-failovers)");
        }
        if (job.hasEnvironment() && !environmentKnown) {
            return stay("its environment values are never stored, and this server restarted since run was called");
        }
        Instant deadline = Instant.ofEpochSecond(terms.escrowTerms(reservation).deadline().longValueExact());
        Duration run = Duration.ofSeconds(job.maxDurationSeconds());
        if (clock.instant().plus(run).plus(deadlineMargin).isAfter(deadline)) {
            return stay("a new run of " + run.toMinutes() + " min would end too close to the escrow deadline " + deadline);
        }
        Set<String> excluded = new java.util.HashSet<>(job.faultedProviders());
        excluded.add(faultedProvider);
        return quoteService.findById(reservation.quoteId()).flatMap(original -> {
            int minutes = (int) Math.ceilDiv(job.maxDurationSeconds(), 60L);
            OfferQuery query = new OfferQuery(original.gpu(), reservation.gpuCount(), minutes, Optional.empty(),
                    Optional.of(original.vramGb()), Optional.empty(), Optional.empty());
            return Mono.zip(quoteService.liveOffers(job.agentId(), new QuoteRequest(query, Optional.empty(), CANDIDATES_MAX)),
                            policies.placementRules(job.agentId()))
                    .flatMap(found -> choose(job, reservation, found.getT1().quotes(), excluded, found.getT2(), deadline));
        }).switchIfEmpty(Mono.defer(() -> stay("the reservation's original quote is gone")));
    }

    private Mono<Decision> choose(Job job, Reservation reservation, List<Quote> ranked, Set<String> excluded,
            PolicyService.PlacementEvaluator policy, Instant deadline) {
        List<String> passedOver = new ArrayList<>();
        List<Quote> fitting = new ArrayList<>();
        Usdc escrowed = reservation.amount();
        for (Quote candidate : ranked) {
            if (excluded.contains(candidate.provider())) {
                continue;
            }
            List<PolicyViolation> violations = policy.check(candidate.provider(), candidate.gpu(), candidate.price());
            if (!violations.isEmpty()) {
                passedOver.add(candidate.provider() + " (not allowed: " + violations.getFirst().message() + ")");
            } else if (candidate.total().compareTo(escrowed) > 0) {
                passedOver.add(candidate.provider() + " (the run would cost " + candidate.total() + ", more than the "
                        + escrowed + " in escrow)");
            } else {
                fitting.add(candidate);
            }
        }
        // One hold id per try: a provider that timed out may still have placed its hold, which is then released
        // under its own id and never mistaken for another provider's.
        String holdPrefix = reservation.reservationId() + "-" + (job.attempt() + 1) + ".";
        return Flux.fromIterable(fitting).take(HOLD_TRIES_MAX).index()
                .concatMap(indexed -> hold(indexed.getT2(), holdPrefix + (indexed.getT1() + 1), reservation.gpuCount(),
                        deadline).map(outcome -> new Attempted(indexed.getT2(), holdPrefix + (indexed.getT1() + 1), outcome)))
                .takeUntil(attempted -> attempted.outcome() instanceof HoldOutcome.Held)
                .collectList()
                .map(attempts -> {
                    for (Attempted attempted : attempts) {
                        if (attempted.outcome() instanceof HoldOutcome.Held) {
                            Quote offer = attempted.candidate();
                            return (Decision) new Decision.Move(offer, attempted.holdId(), "moved to " + offer.provider() + " offer "
                                    + offer.offerId() + " (" + offer.gpu() + ", " + offer.region() + ") at "
                                    + offer.price().toDecimalString() + "/GPU-h: best expected cost " + offer.expectedCost()
                                    + " whose run (" + offer.total() + ") fits the " + escrowed + " in escrow"
                                    + passedOverText(passedOver));
                        }
                        passedOver.add(attempted.candidate().provider() + " (could not be held: "
                                + reason(attempted.outcome()) + ")");
                    }
                    return new Decision.Stay("no other live offer fits" + passedOverText(passedOver));
                });
    }

    private Mono<HoldOutcome> hold(Quote candidate, String holdId, int gpuCount, Instant until) {
        ComputeProvider provider = providers.find(candidate.provider()).orElseThrow();
        return Mono.defer(() -> provider.holds().hold(new HoldRequest(holdId, candidate.offerId(), gpuCount, until,
                        candidate.price())))
                .timeout(providerTimeout)
                .onErrorResume(error -> provider.holds().release(holdId).onErrorResume(ignored -> Mono.empty())
                        .thenReturn(new HoldOutcome.Unholdable("no answer in time (" + error.getClass().getSimpleName() + ")")));
    }

    private record Attempted(Quote candidate, String holdId, HoldOutcome outcome) {
    }

    private static String reason(HoldOutcome outcome) {
        return switch (outcome) {
            case HoldOutcome.Held held -> "held";
            case HoldOutcome.NoCapacity full -> full.reason();
            case HoldOutcome.Unholdable refused -> refused.reason();
        };
    }

    private static String passedOverText(List<String> passedOver) {
        return passedOver.isEmpty() ? "" : "; passed over: " + String.join(", ", passedOver);
    }

    private static Mono<Decision> stay(String why) {
        return Mono.just(new Decision.Stay(why));
    }
}
