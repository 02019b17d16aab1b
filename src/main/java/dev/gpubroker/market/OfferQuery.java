package dev.gpubroker.market;

import java.util.Optional;

import dev.gpubroker.money.PricePerGpuHour;

/**
 * What an agent asks for. {@code gpu} is a model from {@link GpuModels} or {@link GpuModels#ANY}; the optional
 * filters are empty when the agent did not set them.
 */
public record OfferQuery(
        String gpu,
        int gpuCount,
        int durationMinutes,
        Optional<PricePerGpuHour> maxPricePerGpuHour,
        Optional<Integer> minVramGb,
        Optional<String> region,
        Optional<Double> minReliability) {

    public OfferQuery {
        if (!GpuModels.ANY.equals(gpu) && !GpuModels.isKnown(gpu)) {
            throw new IllegalArgumentException("unknown GPU model " + gpu);
        }
        if (gpuCount <= 0 || durationMinutes <= 0) {
            throw new IllegalArgumentException("gpuCount and durationMinutes are positive");
        }
    }

    /** Any GPU model, {@code gpuCount} of them, for an hour, with no other filter (re-checking a listed offer). */
    public static OfferQuery any(int gpuCount) {
        return new OfferQuery(GpuModels.ANY, gpuCount, 60, Optional.empty(), Optional.empty(), Optional.empty(),
                Optional.empty());
    }

    /** Whether an offer meets every filter of this query. Providers may pre-filter; the aggregator always checks. */
    public boolean accepts(Offer offer) {
        return (GpuModels.ANY.equals(gpu) || gpu.equals(offer.gpu()))
                && offer.availableGpus() >= gpuCount
                && maxPricePerGpuHour.map(max -> offer.price().compareTo(max) <= 0).orElse(true)
                && minVramGb.map(min -> offer.vramGb() >= min).orElse(true)
                && region.map(wanted -> offer.region().equalsIgnoreCase(wanted)).orElse(true)
                && minReliability.map(min -> offer.reliability() >= min).orElse(true);
    }
}
