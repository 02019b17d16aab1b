package dev.gpubroker.payments.chain;

import java.util.Locale;

/** Known networks with their USDC (FACTS.md): chain id, token address and the token's EIP-712 domain name. */
public enum ChainPreset {
    NONE(0, null, null),
    BASE(8453, "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913", "USD Coin"),
    BASE_SEPOLIA(84532, "0x036CbD53842c5426634e7929541eC2318f3dCF7e", "USDC");

    private final long chainId;
    private final String usdcAddress;
    private final String usdcDomainName;

    ChainPreset(long chainId, String usdcAddress, String usdcDomainName) {
        this.chainId = chainId;
        this.usdcAddress = usdcAddress;
        this.usdcDomainName = usdcDomainName;
    }

    public static ChainPreset named(String name) {
        if (name == null || name.isBlank()) {
            return NONE;
        }
        try {
            return valueOf(name.strip().toUpperCase(Locale.ROOT).replace('-', '_'));
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("unknown gpubroker.chain.preset '" + name + "': base or base-sepolia");
        }
    }

    public long chainId() {
        return chainId;
    }

    public String usdcAddress() {
        return usdcAddress;
    }

    public String usdcDomainName() {
        return usdcDomainName;
    }
}
