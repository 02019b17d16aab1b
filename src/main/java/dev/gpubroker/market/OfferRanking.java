package dev.gpubroker.market;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.Comparator;

import org.springframework.stereotype.Component;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.money.Usdc;

/**
 * The one place that decides which offer is best. A cheap offer from an unreliable provider often costs more in the
 * end: when a provider fails, part of the run is lost and the work runs again elsewhere. So offers are ranked by
 * expected cost:
 *
 * <pre>expectedCost = total × (1 + (1 − reliability) × failurePenaltyFactor)</pre>
 *
 * with {@code failurePenaltyFactor} 1.5 by default: a failure strikes on average half-way through (0.5 of the run's
 * value lost in time) and the whole run is bought again (1.0). docs/ranking.md explains the choice.
 * Ties go to the more reliable offer, then the lower nominal price, then the provider name, so the order is stable.
 */
@Component
public class OfferRanking {

    private final BigDecimal failurePenaltyFactor;

    public OfferRanking(BrokerProperties properties) {
        double factor = properties.quotes().failurePenaltyFactor();
        if (!(factor >= 0.0 && factor <= 10.0)) {
            throw new IllegalArgumentException("gpubroker.quotes.failure-penalty-factor is between 0 and 10, got " + factor);
        }
        this.failurePenaltyFactor = BigDecimal.valueOf(factor);
    }

    public Usdc expectedCost(Usdc total, double reliability) {
        BigDecimal failure = BigDecimal.ONE.subtract(BigDecimal.valueOf(reliability));
        BigDecimal multiplier = BigDecimal.ONE.add(failure.multiply(failurePenaltyFactor));
        long micros = BigDecimal.valueOf(total.micros()).multiply(multiplier).setScale(0, RoundingMode.CEILING).longValueExact();
        return Usdc.ofMicros(micros);
    }

    /** Best first. */
    public Comparator<Quote> order() {
        return Comparator.comparing(Quote::expectedCost)
                .thenComparing(Comparator.comparingDouble(Quote::reliability).reversed())
                .thenComparing(quote -> quote.price())
                .thenComparing(Quote::provider)
                .thenComparing(Quote::offerId);
    }
}
