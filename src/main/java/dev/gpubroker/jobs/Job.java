package dev.gpubroker.jobs;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

import dev.gpubroker.money.PricePerGpuHour;
import dev.gpubroker.money.Usdc;

/**
 * A job as persisted: what runs, where it runs now ({@code provider}, {@code attempt}, {@code price}: a failover moves
 * it), and what it cost.
 */
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
        Instant lastHeartbeatAt,
        int attempt,
        PricePerGpuHour price,
        boolean hasEnvironment,
        List<String> faultedProviders,
        boolean cancelRequested,
        Instant seenRunningAt) {

    public Job {
        Objects.requireNonNull(jobId, "jobId");
        Objects.requireNonNull(state, "state");
        command = List.copyOf(command);
        faultedProviders = List.copyOf(faultedProviders);
        if (attempt < 1) {
            throw new IllegalArgumentException("attempts count from 1");
        }
        if (gpuSeconds < 0) {
            throw new IllegalArgumentException("GPU-seconds are never negative");
        }
    }

    /**
     * The job's name at its current provider: each attempt is a separate launch there, so a failover never collides
     * with what is left of the attempt before it.
     */
    public String providerJobId() {
        return attempt == 1 ? jobId : jobId + "-" + attempt;
    }

    /** A job event: why something changed. */
    public record Event(Instant at, String kind, String detail) {
    }
}
