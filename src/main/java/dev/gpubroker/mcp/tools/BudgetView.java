package dev.gpubroker.mcp.tools;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

import dev.gpubroker.money.Usdc;
import dev.gpubroker.policy.PolicyRules;
import dev.gpubroker.policy.PolicyStanding;

/** What is left under each of an agent's limits, as {@code account} shows it. */
final class BudgetView {

    private BudgetView() {
    }

    /** The budget of {@code account}'s answer: unmodifiable, as the answer it is part of is kept ({@link AccountTool}). */
    static Map<String, Object> of(PolicyStanding standing) {
        var policy = standing.policy();
        var usage = standing.usage();
        Map<String, Object> budget = new LinkedHashMap<>();
        budget.put("frozen", policy.frozen());
        budget.put("killSwitch", standing.killSwitchOn());
        budget.put("held", usage.held().toDecimalString());
        budget.put("spentLast24Hours", usage.spentLast24Hours().toDecimalString());
        budget.put("spentTotal", usage.spentTotal().toDecimalString());
        budget.put("maxPerReservation", decimal(policy.maxPerReservation()));
        budget.put("dailyLimit", decimal(policy.dailyLimit()));
        budget.put("dailyRemaining", policy.dailyLimit()
                .map(limit -> PolicyRules.remaining(limit, usage.committedLast24Hours()).toDecimalString()).orElse(null));
        budget.put("totalLimit", decimal(policy.totalLimit()));
        budget.put("totalRemaining", policy.totalLimit()
                .map(limit -> PolicyRules.remaining(limit, usage.committedTotal()).toDecimalString()).orElse(null));
        budget.put("maxPricePerGpuHour", policy.maxPricePerGpuHour().map(price -> price.toDecimalString()).orElse(null));
        budget.put("approvalThreshold", decimal(policy.approvalThreshold()));
        budget.put("allowedProviders", policy.allowedProviders());
        budget.put("allowedGpus", policy.allowedGpus());
        budget.put("dailyWindow", "rolling 24 hours");
        return Collections.unmodifiableMap(budget);
    }

    private static String decimal(Optional<Usdc> amount) {
        return amount.map(Usdc::toDecimalString).orElse(null);
    }
}
