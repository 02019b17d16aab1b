package dev.gpubroker.scheduler;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

import dev.gpubroker.money.Usdc;

/** A job as persisted: what runs, where, and what it cost. */
public record Job(
        String jobId,
        String reservationId,
        String agentId,
        String idempotencyKey,
        String provider,
        List<String> command,
        String image,
        long maxDurationSeconds,
        JobState state,
        Instant startedAt,
        Instant endedAt,
        Integer exitCode,
        long gpuSeconds,
        Usdc cost,
        Usdc refund,
        String settlementTx,
        Instant createdAt,
        Integer heartbeatSeconds,
        Instant lastHeartbeatAt) {

    public Job {
        Objects.requireNonNull(jobId, "jobId");
        Objects.requireNonNull(state, "state");
        command = List.copyOf(command);
        if (gpuSeconds < 0) {
            throw new IllegalArgumentException("GPU-seconds are never negative");
        }
    }

    /** A job event: why something changed. */
    public record Event(Instant at, String kind, String detail) {
    }
}
