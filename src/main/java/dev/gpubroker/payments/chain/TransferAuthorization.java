package dev.gpubroker.payments.chain;

import java.math.BigInteger;
import java.util.Objects;

/**
 * The fields of an EIP-3009 {@code TransferWithAuthorization}, what a stock x402 {@code exact} client signs: the payer
 * ({@code from}) sends {@code value} atomic units to {@code to} (the escrow) once, between {@code validAfter} and
 * {@code validBefore} (unix seconds), under a one-shot {@code nonce} (bytes32, 0x-hex) the client chose at random.
 * Unlike {@link ReceiveAuthorization}, anyone may submit it to the token, which is why the escrow accepts it only
 * from its operator (docs/contracts.md).
 */
public record TransferAuthorization(String from, String to, BigInteger value, BigInteger validAfter,
        BigInteger validBefore, String nonce) {

    public TransferAuthorization {
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
