package dev.gpubroker.policy;

import dev.gpubroker.money.Usdc;

/**
 * What an agent has committed: {@code held} (reservations not yet settled, counted in full), {@code spentTotal} and
 * {@code spentLast24Hours} (settled spending).
 */
public record BudgetUsage(Usdc held, Usdc spentTotal, Usdc spentLast24Hours) {

    public static final BudgetUsage NONE = new BudgetUsage(Usdc.ZERO, Usdc.ZERO, Usdc.ZERO);

    public Usdc committedTotal() {
        return held.plus(spentTotal);
    }

    public Usdc committedLast24Hours() {
        return held.plus(spentLast24Hours);
    }
}
