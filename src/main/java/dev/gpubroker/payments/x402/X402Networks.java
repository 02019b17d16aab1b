package dev.gpubroker.payments.x402;

import java.util.Map;
import java.util.Optional;

/**
 * How x402 names a chain: v2 by CAIP-2 ({@code eip155:<chain id>}), v1 by the names its clients know (those of the
 * x402 v1 packages' network table that carry USDC with EIP-3009; a chain without a v1 name is reachable by v2 only).
 */
public final class X402Networks {

    private static final Map<Long, String> V1_NAMES = Map.of(
            8453L, "base",
            84532L, "base-sepolia",
            43114L, "avalanche",
            43113L, "avalanche-fuji",
            137L, "polygon",
            80002L, "polygon-amoy");

    private X402Networks() {
    }

    public static String caip2(long chainId) {
        return "eip155:" + chainId;
    }

    public static Optional<String> v1Name(long chainId) {
        return Optional.ofNullable(V1_NAMES.get(chainId));
    }

    /** Whether {@code network}, in either version's spelling, names this chain. */
    public static boolean names(String network, long chainId) {
        return network != null && (network.equals(caip2(chainId)) || v1Name(chainId).filter(network::equals).isPresent());
    }
}
