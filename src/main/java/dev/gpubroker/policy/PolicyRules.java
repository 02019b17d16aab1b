package dev.gpubroker.policy;

import java.util.ArrayList;
import java.util.List;

import dev.gpubroker.money.PricePerGpuHour;
import dev.gpubroker.money.Usdc;

/**
 * The one place that decides whether a purchase fits an agent's policy, as small rules that each accept or reject
 * with a reason. Used to mark quotes and, under the agent's lock, to place a budget hold at reserve.
 */
public final class PolicyRules {

    private PolicyRules() {
    }

    public static PurchaseCheck check(SpendPolicy policy, boolean killSwitch, BudgetUsage usage, String provider,
            String gpu, PricePerGpuHour price, Usdc total) {
        List<PolicyViolation> violations = new ArrayList<>(checkPlacement(policy, killSwitch, provider, gpu, price));
        policy.maxPerReservation().filter(max -> total.compareTo(max) > 0).ifPresent(max -> violations.add(
                new PolicyViolation(PolicyViolation.Code.OVER_MAX_PER_RESERVATION, "total " + total.toDecimalString()
                        + " is above this agent's maximum per reservation " + max.toDecimalString())));
        policy.dailyLimit().ifPresent(limit -> {
            Usdc after = usage.committedLast24Hours().plus(total);
            if (after.compareTo(limit) > 0) {
                violations.add(new PolicyViolation(PolicyViolation.Code.OVER_DAILY_LIMIT, "total " + total.toDecimalString()
                        + " would exceed the daily limit " + limit.toDecimalString() + " (rolling 24 h): "
                        + remaining(limit, usage.committedLast24Hours()).toDecimalString() + " left"));
            }
        });
        policy.totalLimit().ifPresent(limit -> {
            Usdc after = usage.committedTotal().plus(total);
            if (after.compareTo(limit) > 0) {
                violations.add(new PolicyViolation(PolicyViolation.Code.OVER_TOTAL_LIMIT, "total " + total.toDecimalString()
                        + " would exceed the total limit " + limit.toDecimalString() + ": "
                        + remaining(limit, usage.committedTotal()).toDecimalString() + " left"));
            }
        });
        boolean approval = policy.approvalThreshold().map(threshold -> total.compareTo(threshold) > 0).orElse(false);
        return new PurchaseCheck(violations, approval);
    }

    /**
     * The rules about where money may go, whatever the amount: kill switch, frozen agent, providers, GPU models and the
     * price ceiling. A failover, which spends no new money, must still pass these.
     */
    public static List<PolicyViolation> checkPlacement(SpendPolicy policy, boolean killSwitch, String provider, String gpu,
            PricePerGpuHour price) {
        List<PolicyViolation> violations = new ArrayList<>();
        if (killSwitch) {
            violations.add(new PolicyViolation(PolicyViolation.Code.KILL_SWITCH,
                    "all spending is stopped by the operator's kill switch"));
        }
        if (policy.frozen()) {
            violations.add(new PolicyViolation(PolicyViolation.Code.AGENT_FROZEN,
                    "this agent is frozen by its operator: it can read but not spend"));
        }
        if (!policy.allowedProviders().isEmpty() && !policy.allowedProviders().contains(provider)) {
            violations.add(new PolicyViolation(PolicyViolation.Code.PROVIDER_NOT_ALLOWED,
                    "provider " + provider + " is not in this agent's allowed providers " + policy.allowedProviders()));
        }
        if (!policy.allowedGpus().isEmpty() && !policy.allowedGpus().contains(gpu)) {
            violations.add(new PolicyViolation(PolicyViolation.Code.GPU_NOT_ALLOWED,
                    "GPU " + gpu + " is not in this agent's allowed GPUs " + policy.allowedGpus()));
        }
        policy.maxPricePerGpuHour().filter(max -> price.compareTo(max) > 0).ifPresent(max -> violations.add(
                new PolicyViolation(PolicyViolation.Code.OVER_MAX_PRICE_PER_GPU_HOUR, "price " + price.toDecimalString()
                        + " per GPU-hour is above this agent's maximum " + max.toDecimalString())));
        return violations;
    }

    public static Usdc remaining(Usdc limit, Usdc committed) {
        return limit.compareTo(committed) > 0 ? limit.minus(committed) : Usdc.ZERO;
    }
}
