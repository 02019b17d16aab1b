package dev.gpubroker.market;

import java.util.Objects;

import dev.gpubroker.money.PricePerGpuHour;

/**
 * One provider's offer, normalised: a GPU model from {@link GpuModels}, VRAM per GPU in GB, the price for one GPU
 * for one hour, how many GPUs are free now, and the provider's reliability (probability in [0, 1] that a job runs
 * to its end without a provider fault).
 */
public record Offer(
        String provider,
        String offerId,
        String gpu,
        int vramGb,
        String region,
        PricePerGpuHour price,
        int availableGpus,
        double reliability) {

    public Offer {
        Objects.requireNonNull(provider, "provider");
        Objects.requireNonNull(offerId, "offerId");
        Objects.requireNonNull(region, "region");
        Objects.requireNonNull(price, "price");
        if (!GpuModels.isKnown(gpu)) {
            throw new IllegalArgumentException("unknown GPU model " + gpu + "; known: " + GpuModels.ALL);
        }
        if (vramGb <= 0 || availableGpus < 0) {
            throw new IllegalArgumentException("vramGb is positive and availableGpus not negative");
        }
        if (!(reliability >= 0.0 && reliability <= 1.0)) {
            throw new IllegalArgumentException("reliability is a probability in [0, 1], got " + reliability);
        }
    }
}
