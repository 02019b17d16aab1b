package dev.gpubroker.identity;

import java.time.Instant;
import java.util.Objects;

/** An AI agent that buys GPU time. Its API key is never part of this record: only its hash is stored. */
public record Agent(String agentId, String name, String walletAddress, WalletCustody custody, Instant createdAt) {

    /** CUSTODIAL: the server holds the agent's keystore and signs for it. EXTERNAL: the agent signs for itself. */
    public enum WalletCustody { CUSTODIAL, EXTERNAL, NONE }

    /** The keystore label of a custodial agent's wallet. */
    public String walletLabel() {
        return walletLabelOf(agentId);
    }

    public static String walletLabelOf(String agentId) {
        return "agent-" + agentId.toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }

    public Agent {
        Objects.requireNonNull(custody, "custody");
        Objects.requireNonNull(agentId, "agentId");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(createdAt, "createdAt");
    }
}
