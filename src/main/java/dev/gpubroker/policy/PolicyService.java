package dev.gpubroker.policy;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;

import org.springframework.stereotype.Service;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.market.GpuModels;
import dev.gpubroker.money.PricePerGpuHour;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.platform.database.ReadCaches;
import dev.gpubroker.platform.database.ReadThroughCache;
import dev.gpubroker.policy.PolicyRepository.PolicyWithUsage;
import reactor.core.publisher.Mono;

/**
 * Spend policies and budget holds. {@link #holdBudget} must run inside the transaction that creates the reservation:
 * it locks the agent's policy row, so that the check and the hold are one step for every agent, under any
 * concurrency, and the holds plus the spending never exceed a limit.
 */
@Service
public class PolicyService {

    /** Both lists are stored as one comma-separated column (2000 and 400 characters): these bounds always fit. */
    static final int ALLOWED_PROVIDERS_MAX = 24;
    static final int ALLOWED_GPUS_MAX = 16;
    private static final Pattern PROVIDER_NAME = Pattern.compile("[a-z0-9][a-z0-9-]{0,63}");

    private static final Duration DAY = Duration.ofHours(24);

    private final PolicyRepository policies;
    private final BudgetHoldRepository holds;
    private final KillSwitch killSwitch;
    private final Clock clock;
    private final SpendPolicy defaults;
    /** What {@link #standing} shows, by agent: the tables its one statement reads. */
    private final ReadThroughCache<String, PolicyWithUsage> standings;

    public PolicyService(PolicyRepository policies, BudgetHoldRepository holds, KillSwitch killSwitch, Clock clock,
            BrokerProperties properties, ReadCaches caches) {
        this.standings = caches.create("policy_standing", 10_000, List.of("agent_policies", "budget_holds", "settings"));
        this.policies = policies;
        this.holds = holds;
        this.killSwitch = killSwitch;
        this.clock = clock;
        BrokerProperties.Policy configured = properties.policy();
        this.defaults = validate(new SpendPolicy(amount(configured.maxPerReservation()), amount(configured.dailyLimit()),
                amount(configured.totalLimit()), configured.maxPricePerGpuHour().isBlank() ? Optional.empty()
                        : Optional.of(PricePerGpuHour.parse(configured.maxPricePerGpuHour())),
                configured.allowedProviders(), configured.allowedGpus(), amount(configured.approvalThreshold()), false));
    }

    public SpendPolicy defaults() {
        return defaults;
    }

    /** The agent's policy; an agent without one gets the configured defaults, written down at first use. */
    public Mono<SpendPolicy> policyOf(String agentId) {
        return policies.find(agentId).switchIfEmpty(Mono.defer(() -> policies.insertIfAbsent(agentId, defaults,
                clock.instant()).then(policies.find(agentId))));
    }

    /** Replaces the policy; it applies to the very next call. */
    public Mono<SpendPolicy> put(String agentId, SpendPolicy policy) {
        return Mono.fromCallable(() -> validate(policy))
                .flatMap(valid -> policies.upsert(agentId, valid, clock.instant()).then(policies.find(agentId)));
    }

    public Mono<SpendPolicy> setFrozen(String agentId, boolean frozen) {
        return policyOf(agentId).flatMap(current -> policies.setFrozen(agentId, frozen, clock.instant()))
                .then(policies.find(agentId));
    }

    public Mono<BudgetUsage> usage(String agentId) {
        return holds.usage(agentId, clock.instant().minus(DAY));
    }

    /**
     * The agent's policy, its usage and the kill switch in one database read (three before: this is on the path of
     * every quote and account call), from memory while none of its tables changed on this instance (for at most
     * {@code gpubroker.database.read-cache-ttl}: the 24 hours roll on, another instance may write). For display and
     * for marking quotes only: a purchase is checked again under the policy's lock ({@link #holdBudget}). An agent
     * without a policy gets the defaults written down first.
     */
    public Mono<PolicyStanding> standing(String agentId) {
        return standings.read(agentId, () -> policies.withUsage(agentId, clock.instant().minus(DAY), KillSwitch.SETTING))
                .switchIfEmpty(Mono.defer(() -> policyOf(agentId)
                        .then(policies.withUsage(agentId, clock.instant().minus(DAY), KillSwitch.SETTING))))
                .map(read -> new PolicyStanding(read.policy(), read.usage(), KillSwitch.ON.equals(read.settingValue())));
    }

    /** How a prospective purchase fares under the policy right now, without holding anything (to mark quotes). */
    public Mono<Evaluator> evaluator(String agentId) {
        return standing(agentId).map(standing -> (provider, gpu, price, total) -> PolicyRules.check(standing.policy(),
                standing.killSwitchOn(), standing.usage(), provider, gpu, price, total));
    }

    /** Where the agent's money may go now, whatever the amount: for a failover, which spends nothing new. */
    public Mono<PlacementEvaluator> placementRules(String agentId) {
        return Mono.zip(policyOf(agentId), killSwitch.isOn())
                .map(parts -> (provider, gpu, price) -> PolicyRules.checkPlacement(parts.getT1(), parts.getT2(), provider,
                        gpu, price));
    }

    /** Checks a purchase and, when allowed, holds its budget. Runs inside the reservation's transaction. */
    public Mono<PurchaseCheck> holdBudget(String agentId, String reservationId, String provider, String gpu,
            PricePerGpuHour price, Usdc total) {
        return policyOf(agentId)
                .then(Mono.defer(() -> policies.lock(agentId)))
                .flatMap(policy -> Mono.zip(usage(agentId), killSwitch.isOn())
                        .flatMap(state -> {
                            PurchaseCheck check = PolicyRules.check(policy, state.getT2(), state.getT1(), provider, gpu,
                                    price, total);
                            return check.allowed()
                                    ? holds.hold(reservationId, agentId, total, clock.instant()).thenReturn(check)
                                    : Mono.just(check);
                        }));
    }

    /** Whether the agent may spend at all now (pay, run): not frozen, no kill switch. */
    public Mono<Optional<PolicyViolation>> spendingBlocked(String agentId) {
        return Mono.zip(policyOf(agentId), killSwitch.isOn()).map(state -> {
            if (state.getT2()) {
                return Optional.of(new PolicyViolation(PolicyViolation.Code.KILL_SWITCH,
                        "all spending is stopped by the operator's kill switch"));
            }
            if (state.getT1().frozen()) {
                return Optional.of(new PolicyViolation(PolicyViolation.Code.AGENT_FROZEN,
                        "this agent is frozen by its operator: it can read but not spend"));
            }
            return Optional.empty();
        });
    }

    /** Releases the reservation's hold (once: a second release finds nothing held). */
    public Mono<BudgetChange> releaseBudget(String reservationId) {
        return holds.release(reservationId, clock.instant()).map(released -> BudgetChange.of(reservationId, released));
    }

    public Mono<Long> releaseBudgetsOfClosedReservations() {
        return holds.releaseForClosedReservations(clock.instant());
    }

    /** Turns the reservation's hold into spending of {@code spent} (at most the hold); the rest is released with it. */
    public Mono<BudgetChange> spendBudget(String reservationId, Usdc spent) {
        return holds.spend(reservationId, spent, clock.instant()).map(made -> BudgetChange.of(reservationId, made));
    }

    public Mono<Void> dropBudget(String reservationId) {
        return holds.delete(reservationId);
    }

    /** Evaluates one purchase against a snapshot of the policy, the usage and the kill switch. */
    @FunctionalInterface
    public interface Evaluator {
        PurchaseCheck check(String provider, String gpu, PricePerGpuHour price, Usdc total);
    }

    /** Evaluates where money may go against a snapshot of the policy and the kill switch; empty when allowed. */
    @FunctionalInterface
    public interface PlacementEvaluator {
        java.util.List<PolicyViolation> check(String provider, String gpu, PricePerGpuHour price);
    }

    /**
     * Refuses a policy a person could not have meant, or one that would not fit its row: unknown GPU models, names
     * that are not provider names, more than {@value #ALLOWED_PROVIDERS_MAX} providers or
     * {@value #ALLOWED_GPUS_MAX} GPU models. The sizes are checked first, so a huge list costs nothing.
     */
    static SpendPolicy validate(SpendPolicy policy) {
        if (policy.allowedProviders().size() > ALLOWED_PROVIDERS_MAX) {
            throw new InvalidPolicyException("allowedProviders", "at most " + ALLOWED_PROVIDERS_MAX + " providers, got "
                    + policy.allowedProviders().size());
        }
        if (policy.allowedGpus().size() > ALLOWED_GPUS_MAX) {
            throw new InvalidPolicyException("allowedGpus", "at most " + ALLOWED_GPUS_MAX + " GPU models, got "
                    + policy.allowedGpus().size());
        }
        for (String gpu : policy.allowedGpus()) {
            if (!GpuModels.isKnown(gpu)) {
                throw new InvalidPolicyException("allowedGpus", "unknown GPU model '" + abbreviated(gpu) + "'; known: "
                        + GpuModels.ALL);
            }
        }
        for (String provider : policy.allowedProviders()) {
            if (!PROVIDER_NAME.matcher(provider).matches()) {
                throw new InvalidPolicyException("allowedProviders", "provider names are 1 to 64 lower-case letters, "
                        + "digits and dashes, got '" + abbreviated(provider) + "'");
            }
        }
        return policy;
    }

    private static String abbreviated(String text) {
        return text.length() <= 64 ? text : text.substring(0, 64) + "…";
    }

    private static Optional<Usdc> amount(String decimal) {
        return decimal == null || decimal.isBlank() ? Optional.empty() : Optional.of(Usdc.parse(decimal));
    }

}
