package dev.gpubroker.money;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.math.RoundingMode;

/**
 * A USDC balance as the chain reports it, in micro-units. The token's amounts are 256-bit, so a balance can exceed what
 * {@link Usdc} (a long) holds; it is only shown, never spent from, so it needs no arithmetic.
 */
public record UsdcBalance(BigInteger micros) {

    public UsdcBalance {
        if (micros == null || micros.signum() < 0) {
            throw new IllegalArgumentException("a balance is never negative, got " + micros + " micro-units");
        }
    }

    /** The balance as a decimal string, as {@link Usdc#toDecimalString()} writes amounts ("12.50", "0.000001"). */
    public String toDecimalString() {
        BigDecimal exact = new BigDecimal(micros, Usdc.DECIMALS).stripTrailingZeros();
        return (exact.scale() < 2 ? exact.setScale(2, RoundingMode.UNNECESSARY) : exact).toPlainString();
    }

    @Override
    public String toString() {
        return toDecimalString() + " USDC";
    }
}
