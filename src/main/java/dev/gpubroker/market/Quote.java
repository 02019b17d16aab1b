package dev.gpubroker.market;

import java.time.Instant;
import java.util.Objects;

import dev.gpubroker.money.PricePerGpuHour;
import dev.gpubroker.money.Usdc;

/**
 * A binding price for one offer, made for one agent, valid until {@code expiresAt}. {@code total} is what a
 * reservation of this quote costs; {@code expectedCost} is the ranking figure from {@link OfferRanking}.
 */
public record Quote(
        String quoteId,
        String agentId,
        String provider,
        String offerId,
        String gpu,
        int gpuCount,
        int vramGb,
        String region,
        PricePerGpuHour price,
        int durationMinutes,
        Usdc total,
        Usdc expectedCost,
        double reliability,
        Instant createdAt,
        Instant expiresAt) {

    public Quote {
        Objects.requireNonNull(quoteId, "quoteId");
        Objects.requireNonNull(agentId, "agentId");
        Objects.requireNonNull(total, "total");
        Objects.requireNonNull(expectedCost, "expectedCost");
        if (total.isZero()) {
            throw new IllegalArgumentException("a quote's total is positive");
        }
        if (expectedCost.compareTo(total) < 0) {
            throw new IllegalArgumentException("expected cost " + expectedCost + " is below the total " + total);
        }
        if (!expiresAt.isAfter(createdAt)) {
            throw new IllegalArgumentException("a quote expires after it is made");
        }
    }

    public boolean isExpiredAt(Instant now) {
        return !now.isBefore(expiresAt);
    }
}
