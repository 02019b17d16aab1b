package dev.gpubroker.payments.relayer;

import java.math.BigInteger;
import java.time.Instant;

/** A transaction the relayer signed, as persisted before broadcast. */
public record ChainTransaction(
        String hash,
        String from,
        long nonce,
        String purpose,
        String referenceId,
        String to,
        String callData,
        long gasLimit,
        BigInteger maxFeePerGas,
        BigInteger maxPriorityFeePerGas,
        String signedRaw,
        Status status,
        String replacesHash,
        Instant broadcastAt,
        Instant createdAt) {

    /**
     * SIGNED: persisted, maybe broadcast (a crash can fall between the two). BROADCAST: the node accepted it.
     * CONFIRMED / REVERTED: mined with status 1 / 0. REPLACED: another transaction at the same nonce was mined.
     * REJECTED: the node refused its first broadcast, so it was never in a pool: its nonce was freed for the next
     * submission (RelayerNonces), or it was already used by another transaction.
     */
    public enum Status { SIGNED, BROADCAST, CONFIRMED, REVERTED, REPLACED, REJECTED }
}
