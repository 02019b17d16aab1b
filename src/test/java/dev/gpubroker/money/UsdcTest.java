package dev.gpubroker.money;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class UsdcTest {

    @Test
    void decimalStringsRoundTripThroughMicroUnitsExactly() {
        assertThat(Usdc.parse("12.50").micros()).isEqualTo(12_500_000);
        assertThat(Usdc.parse("0.000001").micros()).isEqualTo(1);
        assertThat(Usdc.ofMicros(12_500_000).toDecimalString()).isEqualTo("12.50");
        assertThat(Usdc.ofMicros(1).toDecimalString()).isEqualTo("0.000001");
        assertThat(Usdc.ofMicros(2_436_000).toDecimalString()).isEqualTo("2.436");
        assertThat(Usdc.ZERO.toDecimalString()).isEqualTo("0.00");
    }

    @ParameterizedTest
    @ValueSource(strings = {"-1", "1.0000001", "1e3", "", " 1", "abc", "1,50", "9999999999999"})
    void anythingButAPlainNonNegativeDecimalIsRefused(String text) {
        assertThatThrownBy(() -> Usdc.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anAmountIsNeverNegative() {
        assertThatThrownBy(() -> Usdc.ofMicros(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Usdc.ofMicros(5).minus(Usdc.ofMicros(6))).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Usdc.ofMicros(Long.MAX_VALUE).plus(Usdc.ofMicros(1))).isInstanceOf(ArithmeticException.class);
    }

    @Test
    void costOverADurationIsRoundedUpToTheMicroUnit() {
        PricePerGpuHour price = PricePerGpuHour.parse("2.39");
        assertThat(price.costFor(1, 60)).isEqualTo(Usdc.parse("2.39"));
        assertThat(price.costFor(8, 90)).isEqualTo(Usdc.parse("28.68"));
        // 0.000001 per hour for one minute is 1/60 of a micro-unit: the quote still covers it.
        assertThat(new PricePerGpuHour(1).costFor(1, 1)).isEqualTo(Usdc.ofMicros(1));
        assertThatThrownBy(() -> price.costFor(0, 60)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new PricePerGpuHour(0)).isInstanceOf(IllegalArgumentException.class);
    }
}
