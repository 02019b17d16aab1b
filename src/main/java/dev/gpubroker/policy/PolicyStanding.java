package dev.gpubroker.policy;

/** Where an agent stands: its policy, what it has committed under it, and whether the kill switch is on, read at once. */
public record PolicyStanding(SpendPolicy policy, BudgetUsage usage, boolean killSwitchOn) {
}
