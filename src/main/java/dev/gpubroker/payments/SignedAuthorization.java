package dev.gpubroker.payments;

import dev.gpubroker.payments.chain.ReceiveAuthorization;

/** An EIP-3009 authorization an agent signed itself (x402 "exact" payload: authorization + signature). */
public record SignedAuthorization(ReceiveAuthorization authorization, String signature) {
}
