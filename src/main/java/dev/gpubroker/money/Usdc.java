package dev.gpubroker.money;

import java.math.BigDecimal;
import java.math.RoundingMode;

/**
 * An amount of USDC in micro-units (the token's 6 decimals), never negative.
 * Decimal strings exist only at the edges: {@link #parse(String)} on the way in, {@link #toDecimalString()} on the way out.
 */
public record Usdc(long micros) implements Comparable<Usdc> {

    public static final int DECIMALS = 6;
    public static final long MICROS_PER_USDC = 1_000_000L;
    public static final Usdc ZERO = new Usdc(0);

    public Usdc {
        if (micros < 0) {
            throw new IllegalArgumentException("a USDC amount is never negative, got " + micros + " micro-units");
        }
    }

    public static Usdc ofMicros(long micros) {
        return new Usdc(micros);
    }

    /**
     * Parses a decimal string such as "12.50". More than six decimals, a sign, an exponent or a negative value is refused:
     * silently rounding someone's money is never right.
     */
    public static Usdc parse(String decimal) {
        if (decimal == null || !decimal.matches("\\d{1,12}(\\.\\d{1,6})?")) {
            throw new IllegalArgumentException(
                    "a USDC amount is a decimal string with at most 12 integer digits and 6 decimals, like \"12.50\"; got \""
                            + decimal + "\"");
        }
        return new Usdc(new BigDecimal(decimal).movePointRight(DECIMALS).longValueExact());
    }

    public String toDecimalString() {
        BigDecimal exact = BigDecimal.valueOf(micros, DECIMALS).stripTrailingZeros();
        return (exact.scale() < 2 ? exact.setScale(2, RoundingMode.UNNECESSARY) : exact).toPlainString();
    }

    public Usdc plus(Usdc other) {
        return new Usdc(Math.addExact(micros, other.micros));
    }

    public Usdc minus(Usdc other) {
        return new Usdc(Math.subtractExact(micros, other.micros));
    }

    public boolean isZero() {
        return micros == 0;
    }

    @Override
    public int compareTo(Usdc other) {
        return Long.compare(micros, other.micros);
    }

    @Override
    public String toString() {
        return toDecimalString() + " USDC";
    }
}
