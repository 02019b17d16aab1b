package dev.gpubroker.market.remote;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;

import org.junit.jupiter.api.Test;

import dev.gpubroker.money.PricePerGpuHour;

/** The operator's markup never sells below cost, and the billing check can take it back out. */
class ProviderPricingTest {

    @Test
    void aMarkupIsAddedAndRoundedUpToTheMicroUsdc() {
        ProviderPricing tenPercent = new ProviderPricing(new BigDecimal("10"));

        assertThat(tenPercent.sellingPrice(new BigDecimal("2.39"))).isEqualTo(PricePerGpuHour.parse("2.629"));
        assertThat(tenPercent.sellingPrice(new BigDecimal("0.0000001"))).isEqualTo(new PricePerGpuHour(1));
        assertThat(new ProviderPricing(BigDecimal.ZERO).sellingPrice(new BigDecimal("1.19")))
                .isEqualTo(PricePerGpuHour.parse("1.19"));
        assertThat(tenPercent.providerAmount(new BigDecimal("2.629"))).isEqualByComparingTo("2.39");
    }

    @Test
    void aNegativeOrAbsurdMarkupAndAFreeOrNegativePriceAreRefused() {
        assertThatThrownBy(() -> new ProviderPricing(new BigDecimal("-1"))).hasMessageContaining("markup-percent");
        assertThatThrownBy(() -> new ProviderPricing(new BigDecimal("1001"))).hasMessageContaining("markup-percent");
        assertThatThrownBy(() -> new ProviderPricing(BigDecimal.ZERO).sellingPrice(BigDecimal.ZERO))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ProviderPricing(BigDecimal.ZERO).sellingPrice(new BigDecimal("-2")))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
