package dev.gpubroker.money;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigInteger;

import org.junit.jupiter.api.Test;

class UsdcBalanceTest {

    @Test
    void aBalanceAboveWhatALongHoldsIsWrittenExactly() {
        BigInteger micros = BigInteger.TWO.pow(63).add(BigInteger.valueOf(1_234_567));

        assertThat(new UsdcBalance(micros).toDecimalString()).isEqualTo("9223372036856.010375");
    }

    @Test
    void aBalanceIsWrittenAsAmountsAre() {
        assertThat(new UsdcBalance(BigInteger.ZERO).toDecimalString()).isEqualTo(Usdc.ZERO.toDecimalString());
        assertThat(new UsdcBalance(BigInteger.valueOf(12_500_000)).toDecimalString()).isEqualTo("12.50");
        assertThat(new UsdcBalance(BigInteger.ONE).toDecimalString()).isEqualTo("0.000001");
    }

    @Test
    void aBalanceIsNeverNegative() {
        assertThatThrownBy(() -> new UsdcBalance(BigInteger.valueOf(-1))).isInstanceOf(IllegalArgumentException.class);
    }
}
