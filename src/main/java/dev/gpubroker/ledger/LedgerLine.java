package dev.gpubroker.ledger;

/**
 * One stored ledger line, as reconciliation and the operator read it. {@code logIndex} is -1 without a chain log;
 * {@code createdAt} is when the broker wrote it (the console's spend chart is drawn from it).
 */
public record LedgerLine(String entryId, String account, String direction, long amountMicros, String reservationId,
        String txHash, int logIndex, String reason, java.time.Instant createdAt) {
}
