package dev.gpubroker.admin;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PutMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

import dev.gpubroker.identity.AgentService;
import dev.gpubroker.money.PricePerGpuHour;
import dev.gpubroker.money.Usdc;
import dev.gpubroker.policy.SpendPolicy;
import dev.gpubroker.policy.PolicyService;
import reactor.core.publisher.Mono;

/**
 * An agent's spend policy. PUT replaces it whole: every field must be present (null for "no limit"), so that a
 * forgotten field never silently lifts a limit. A change applies to the very next call.
 */
@RestController
class AdminPolicyController {

    static final Set<String> FIELDS = Set.of("maxPerReservation", "dailyLimit", "totalLimit", "maxPricePerGpuHour",
            "allowedProviders", "allowedGpus", "approvalThreshold", "frozen");

    record PolicyView(String maxPerReservation, String dailyLimit, String totalLimit, String maxPricePerGpuHour,
            List<String> allowedProviders, List<String> allowedGpus, String approvalThreshold, boolean frozen,
            String dailyWindow) {

        static PolicyView of(SpendPolicy policy) {
            return new PolicyView(decimal(policy.maxPerReservation()), decimal(policy.dailyLimit()),
                    decimal(policy.totalLimit()), policy.maxPricePerGpuHour().map(PricePerGpuHour::toDecimalString).orElse(null),
                    policy.allowedProviders(), policy.allowedGpus(), decimal(policy.approvalThreshold()), policy.frozen(),
                    "rolling 24 hours");
        }

        private static String decimal(Optional<Usdc> amount) {
            return amount.map(Usdc::toDecimalString).orElse(null);
        }
    }

    private final PolicyService policies;
    private final AgentService agents;

    AdminPolicyController(PolicyService policies, AgentService agents) {
        this.policies = policies;
        this.agents = agents;
    }

    @GetMapping(AdminRoutes.PREFIX + "/agents/{agentId}/policy")
    Mono<PolicyView> get(@PathVariable String agentId) {
        return agents.find(agentId).switchIfEmpty(Mono.error(new AdminProblems.NotFound("no agent " + agentId)))
                .flatMap(agent -> policies.policyOf(agentId)).map(PolicyView::of);
    }

    /**
     * What the agent has committed against its limits: held (reservations not yet settled, counted in full) plus
     * settled spending, in total and over the rolling 24 hours, as the policy checks them.
     */
    record UsageView(String held, String spentTotal, String spentLast24Hours, String committedTotal,
            String committedLast24Hours) {
    }

    @GetMapping(AdminRoutes.PREFIX + "/agents/{agentId}/usage")
    Mono<UsageView> usage(@PathVariable String agentId) {
        return agents.find(agentId).switchIfEmpty(Mono.error(new AdminProblems.NotFound("no agent " + agentId)))
                .flatMap(agent -> policies.usage(agentId))
                .map(usage -> new UsageView(usage.held().toDecimalString(), usage.spentTotal().toDecimalString(),
                        usage.spentLast24Hours().toDecimalString(), usage.committedTotal().toDecimalString(),
                        usage.committedLast24Hours().toDecimalString()));
    }

    @PutMapping(AdminRoutes.PREFIX + "/agents/{agentId}/policy")
    Mono<PolicyView> put(@PathVariable String agentId, @RequestBody Map<String, Object> body) {
        return agents.find(agentId).switchIfEmpty(Mono.error(new AdminProblems.NotFound("no agent " + agentId)))
                .flatMap(agent -> Mono.fromCallable(() -> parse(body)))
                .flatMap(policy -> policies.put(agentId, policy))
                .map(PolicyView::of);
    }

    static SpendPolicy parse(Map<String, Object> body) {
        TreeSet<String> unknown = new TreeSet<>(body.keySet());
        unknown.removeAll(FIELDS);
        if (!unknown.isEmpty()) {
            throw new AdminProblems.InvalidField(unknown.first(), "unknown field(s) " + unknown + "; fields: " + new TreeSet<>(FIELDS));
        }
        Set<String> missing = new TreeSet<>(FIELDS);
        missing.removeAll(body.keySet());
        if (!missing.isEmpty()) {
            throw new AdminProblems.InvalidField(missing.iterator().next(), "PUT replaces the whole policy: give every field "
                    + "(null for no limit); missing " + missing);
        }
        if (!(body.get("frozen") instanceof Boolean frozen)) {
            throw new AdminProblems.InvalidField("frozen", "frozen is true or false");
        }
        return new SpendPolicy(amount(body, "maxPerReservation"), amount(body, "dailyLimit"), amount(body, "totalLimit"),
                amount(body, "maxPricePerGpuHour").map(price -> {
                    if (price.isZero()) {
                        throw new AdminProblems.InvalidField("maxPricePerGpuHour", "maxPricePerGpuHour is positive or null");
                    }
                    return new PricePerGpuHour(price.micros());
                }),
                names(body, "allowedProviders"), names(body, "allowedGpus"), amount(body, "approvalThreshold"), frozen);
    }

    private static Optional<Usdc> amount(Map<String, Object> body, String field) {
        Object value = body.get(field);
        if (value == null) {
            return Optional.empty();
        }
        if (!(value instanceof String decimal)) {
            throw new AdminProblems.InvalidField(field, field + " is a USDC decimal string such as \"25.00\", or null");
        }
        try {
            return Optional.of(Usdc.parse(decimal));
        } catch (IllegalArgumentException e) {
            throw new AdminProblems.InvalidField(field, field + " is a USDC decimal string with at most 12 integer digits "
                    + "and 6 decimals, such as \"25.00\", or null");
        }
    }

    private static List<String> names(Map<String, Object> body, String field) {
        Object value = body.get(field);
        if (value == null) {
            return List.of();
        }
        if (!(value instanceof List<?> list) || list.stream().anyMatch(item -> !(item instanceof String))) {
            throw new AdminProblems.InvalidField(field, field + " is a list of names ([] or null: all allowed)");
        }
        List<String> names = new ArrayList<>();
        list.forEach(item -> names.add((String) item));
        return names;
    }
}
