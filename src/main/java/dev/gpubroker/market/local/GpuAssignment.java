package dev.gpubroker.market.local;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/** The GPUs one job holds on this host, and the container runtime that runs it (empty: the command runs on the host). */
record GpuAssignment(String jobId, String offerId, List<Integer> gpuIndices, Optional<ContainerRuntime> container) {

    GpuAssignment {
        Objects.requireNonNull(jobId, "jobId");
        Objects.requireNonNull(offerId, "offerId");
        Objects.requireNonNull(container, "container");
        gpuIndices = List.copyOf(gpuIndices);
        if (gpuIndices.isEmpty() || gpuIndices.stream().distinct().count() != gpuIndices.size()) {
            throw new IllegalArgumentException("a job holds at least one GPU, each once: " + gpuIndices);
        }
    }
}
