package dev.gpubroker.market;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Start a job on held capacity: {@code command} as an argv array (never a shell string), optional container
 * {@code image}, environment, and a wall-clock limit the provider enforces. Idempotent by {@code jobId}.
 */
public record LaunchRequest(String jobId, String holdId, String offerId, int gpuCount, List<String> command,
        String image, Map<String, String> environment, Duration maxDuration) {

    public LaunchRequest {
        Objects.requireNonNull(jobId, "jobId");
        Objects.requireNonNull(holdId, "holdId");
        command = List.copyOf(command);
        environment = Map.copyOf(environment);
        if (command.isEmpty()) {
            throw new IllegalArgumentException("a command has at least its program");
        }
        if (maxDuration.isNegative() || maxDuration.isZero()) {
            throw new IllegalArgumentException("maxDuration is positive");
        }
    }

    @Override
    public String toString() {
        // The environment can carry an agent's secrets: never in logs.
        return "LaunchRequest[jobId=" + jobId + ", offerId=" + offerId + ", gpuCount=" + gpuCount + ", command="
                + command + ", image=" + image + ", environment=" + environment.keySet() + ", maxDuration=" + maxDuration + "]";
    }
}
