package dev.gpubroker.market.remote;

import java.math.BigDecimal;
import java.math.RoundingMode;

import dev.gpubroker.money.PricePerGpuHour;

/**
 * The operator's markup on real providers' prices ({@code gpubroker.providers.markup-percent}, default 0): agents see
 * the provider's price plus this percentage, rounded up to the micro-USDC, so the operator never sells below cost.
 */
public record ProviderPricing(BigDecimal markupPercent) {

    private static final BigDecimal MAX_PERCENT = BigDecimal.valueOf(1000);

    public ProviderPricing {
        if (markupPercent == null || markupPercent.signum() < 0 || markupPercent.compareTo(MAX_PERCENT) > 0) {
            throw new IllegalStateException("gpubroker.providers.markup-percent is between 0 and " + MAX_PERCENT
                    + ", got " + markupPercent);
        }
    }

    /** The price agents are quoted for a provider's price in USD per GPU-hour. */
    public PricePerGpuHour sellingPrice(BigDecimal providerUsdPerGpuHour) {
        if (providerUsdPerGpuHour == null || providerUsdPerGpuHour.signum() <= 0) {
            throw new IllegalArgumentException("a provider's price is positive, got " + providerUsdPerGpuHour);
        }
        BigDecimal marked = providerUsdPerGpuHour
                .multiply(BigDecimal.ONE.add(markupPercent.movePointLeft(2)))
                .setScale(6, RoundingMode.CEILING);
        return new PricePerGpuHour(marked.movePointRight(6).longValueExact());
    }

    /** What a sum billed to agents cost at the providers' own prices: the markup taken back out (to the micro-USD). */
    public BigDecimal providerAmount(BigDecimal billedToAgents) {
        return billedToAgents.divide(BigDecimal.ONE.add(markupPercent.movePointLeft(2)), 6, RoundingMode.HALF_EVEN);
    }
}
