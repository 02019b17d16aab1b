package dev.gpubroker.payments.chain;

import java.math.BigInteger;
import java.util.Objects;

/**
 * The fields of an EIP-3009 {@code ReceiveWithAuthorization}: the payer ({@code from}) lets {@code to} (the escrow)
 * pull {@code value} atomic units once, between {@code validAfter} and {@code validBefore} (unix seconds), under a
 * one-shot {@code nonce} (bytes32, 0x-hex).
 */
public record ReceiveAuthorization(String from, String to, BigInteger value, BigInteger validAfter,
        BigInteger validBefore, String nonce) {

    public ReceiveAuthorization {
        Objects.requireNonNull(from, "from");
        Objects.requireNonNull(to, "to");
        Objects.requireNonNull(value, "value");
        Objects.requireNonNull(validAfter, "validAfter");
        Objects.requireNonNull(validBefore, "validBefore");
        Objects.requireNonNull(nonce, "nonce");
        if (value.signum() <= 0) {
            throw new IllegalArgumentException("value is positive");
        }
    }
}
