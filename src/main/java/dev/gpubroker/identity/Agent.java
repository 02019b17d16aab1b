package dev.gpubroker.identity;

import java.time.Instant;
import java.util.Objects;

/** An AI agent that buys GPU time. Its API key is never part of this record: only its hash is stored. */
public record Agent(String agentId, String name, String walletAddress, Instant createdAt) {

    public Agent {
        Objects.requireNonNull(agentId, "agentId");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(createdAt, "createdAt");
    }
}
