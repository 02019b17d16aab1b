package dev.gpubroker.payments;

import java.util.Map;

/**
 * What a payer needs to pay a reservation, in the shape of x402 v2 PaymentRequirements: {@code amount} in atomic
 * units (6 decimals for USDC), {@code network} as CAIP-2, {@code extra} with the token's EIP-712 domain and the
 * transfer method. {@code network}, {@code asset} and {@code payTo} are null while no chain is configured.
 */
public record PaymentRequirements(
        String scheme,
        String network,
        String amount,
        String asset,
        String payTo,
        int maxTimeoutSeconds,
        Map<String, Object> extra) {
}
