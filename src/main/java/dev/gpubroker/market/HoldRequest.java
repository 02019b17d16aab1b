package dev.gpubroker.market;

import java.time.Instant;
import java.util.Objects;

import dev.gpubroker.money.PricePerGpuHour;

/**
 * Hold {@code gpuCount} GPUs of an offer until {@code until}, at no more than {@code quotedPrice} (the price the
 * agent was quoted: a provider without holds re-checks it); {@code holdId} makes the call idempotent.
 */
public record HoldRequest(String holdId, String offerId, int gpuCount, Instant until, PricePerGpuHour quotedPrice) {

    public HoldRequest {
        Objects.requireNonNull(holdId, "holdId");
        Objects.requireNonNull(offerId, "offerId");
        Objects.requireNonNull(until, "until");
        Objects.requireNonNull(quotedPrice, "quotedPrice");
        if (gpuCount <= 0) {
            throw new IllegalArgumentException("gpuCount is positive");
        }
    }
}
