package dev.gpubroker.market;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.gpubroker.config.BrokerProperties;
import dev.gpubroker.money.PricePerGpuHour;
import dev.gpubroker.money.Usdc;

class OfferRankingTest {

    private final OfferRanking ranking = new OfferRanking(properties(1.5));

    @Test
    void expectedCostRaisesTheTotalByTheCostOfFailureAndRetry() {
        assertThat(ranking.expectedCost(Usdc.parse("10.00"), 1.0)).isEqualTo(Usdc.parse("10.00"));
        assertThat(ranking.expectedCost(Usdc.parse("10.00"), 0.9)).isEqualTo(Usdc.parse("11.50"));
        assertThat(ranking.expectedCost(Usdc.parse("10.00"), 0.0)).isEqualTo(Usdc.parse("25.00"));
        assertThat(ranking.expectedCost(Usdc.ofMicros(1), 0.5)).isEqualTo(Usdc.ofMicros(2));
    }

    @Test
    void aCheapUnreliableOfferRanksBelowADearerReliableOne() {
        // 2.00 × (1 + 0.20 × 1.5) = 2.60 against 2.39 × (1 + 0.03 × 1.5) = 2.4976 and 1.29 × (1 + 0.07 × 1.5) = 1.4255.
        Quote cheapFlaky = quote("flaky", "2.00", 0.80);
        Quote dearSolid = quote("solid", "2.39", 0.97);
        Quote cheapest = quote("cheapest", "1.29", 0.93);

        assertThat(List.of(cheapFlaky, dearSolid, cheapest).stream().sorted(ranking.order()).map(Quote::provider))
                .containsExactly("cheapest", "solid", "flaky");
    }

    @Test
    void anAbsurdPenaltyFactorIsRefusedAtStart() {
        assertThatThrownBy(() -> new OfferRanking(properties(-1))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new OfferRanking(properties(Double.NaN))).isInstanceOf(IllegalArgumentException.class);
    }

    private Quote quote(String provider, String price, double reliability) {
        Usdc total = PricePerGpuHour.parse(price).costFor(1, 60);
        Instant now = Instant.parse("2026-01-01T00:00:00Z");
        return new Quote("qt_" + provider, "agt_1", provider, provider + "-offer", "H100", 1, 80, "us-east",
                PricePerGpuHour.parse(price), 60, total, ranking.expectedCost(total, reliability), reliability, now,
                now.plusSeconds(60));
    }

    private static BrokerProperties properties(double failurePenaltyFactor) {
        return new BrokerProperties(Path.of("."), true,
                new BrokerProperties.Quotes(Duration.ofSeconds(60), 20, failurePenaltyFactor),
                new BrokerProperties.Reservations(Duration.ofMinutes(10), Duration.ofSeconds(1), Duration.ofSeconds(30), 100),
                new BrokerProperties.Market(Duration.ofSeconds(3), "classpath:demo-marketplace.yml", true,
                        new BrokerProperties.Local(BrokerProperties.Local.Switch.OFF, "2.00", "local", 0.99), null),
                new BrokerProperties.Http(List.of(), List.of()),
                new BrokerProperties.Database("", "", "", Duration.ofSeconds(1)),
                null, null, null, null, null);
    }
}
