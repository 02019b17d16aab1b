package dev.gpubroker.policy;

import java.util.List;
import java.util.Optional;

import dev.gpubroker.money.PricePerGpuHour;
import dev.gpubroker.money.Usdc;

/**
 * What one agent may spend, as a person set it. An empty limit means no limit of that kind; empty allow-lists mean
 * everything is allowed. The daily limit is a rolling 24 hours.
 */
public record SpendPolicy(
        Optional<Usdc> maxPerReservation,
        Optional<Usdc> dailyLimit,
        Optional<Usdc> totalLimit,
        Optional<PricePerGpuHour> maxPricePerGpuHour,
        List<String> allowedProviders,
        List<String> allowedGpus,
        Optional<Usdc> approvalThreshold,
        boolean frozen) {

    public SpendPolicy {
        allowedProviders = List.copyOf(allowedProviders);
        allowedGpus = List.copyOf(allowedGpus);
    }

    public SpendPolicy withFrozen(boolean frozen) {
        return new SpendPolicy(maxPerReservation, dailyLimit, totalLimit, maxPricePerGpuHour, allowedProviders,
                allowedGpus, approvalThreshold, frozen);
    }
}
