package dev.gpubroker.market;

import java.time.Instant;
import java.util.Objects;

/** Hold {@code gpuCount} GPUs of an offer until {@code until}; {@code holdId} makes the call idempotent. */
public record HoldRequest(String holdId, String offerId, int gpuCount, Instant until) {

    public HoldRequest {
        Objects.requireNonNull(holdId, "holdId");
        Objects.requireNonNull(offerId, "offerId");
        Objects.requireNonNull(until, "until");
        if (gpuCount <= 0) {
            throw new IllegalArgumentException("gpuCount is positive");
        }
    }
}
