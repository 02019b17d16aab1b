package dev.gpubroker.market.local;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Which of this host's GPUs each running job holds. A GPU is given to one job at a time, the lowest free indices
 * first, and is free again when the job's process has ended. Holds count GPUs (in the database), this class names
 * them: the count keeps launches within capacity, this keeps two launches off the same GPU.
 */
final class GpuAssignments {

    private final Map<String, GpuAssignment> byJob = new HashMap<>();

    /**
     * The GPUs for this job: the ones it holds already (a launch repeated), or {@code gpuCount} free ones among the
     * offer's; empty when fewer are free.
     */
    synchronized Optional<GpuAssignment> assign(String jobId, LocalOffer offer, int gpuCount,
            Optional<ContainerRuntime> container) {
        GpuAssignment existing = byJob.get(jobId);
        if (existing != null) {
            return Optional.of(existing);
        }
        Set<Integer> inUse = inUse();
        List<Integer> chosen = new ArrayList<>();
        for (int index : offer.gpuIndices()) {
            if (chosen.size() < gpuCount && !inUse.contains(index)) {
                chosen.add(index);
            }
        }
        if (chosen.size() < gpuCount) {
            return Optional.empty();
        }
        GpuAssignment assignment = new GpuAssignment(jobId, offer.offerId(), chosen, container);
        byJob.put(jobId, assignment);
        assertNoGpuSharedLocked();
        return Optional.of(assignment);
    }

    /**
     * Takes back an assignment recorded before a restart. False, and nothing taken, when one of its GPUs is held by
     * another job already: the record is stale.
     */
    synchronized boolean restore(GpuAssignment assignment) {
        if (byJob.containsKey(assignment.jobId())) {
            return byJob.get(assignment.jobId()).equals(assignment);
        }
        Set<Integer> inUse = inUse();
        if (assignment.gpuIndices().stream().anyMatch(inUse::contains)) {
            return false;
        }
        byJob.put(assignment.jobId(), assignment);
        assertNoGpuSharedLocked();
        return true;
    }

    synchronized Optional<GpuAssignment> find(String jobId) {
        return Optional.ofNullable(byJob.get(jobId));
    }

    /** Frees the job's GPUs. Idempotent. */
    synchronized void free(String jobId) {
        byJob.remove(jobId);
    }

    synchronized Set<Integer> inUse() {
        Set<Integer> inUse = new HashSet<>();
        byJob.values().forEach(assignment -> inUse.addAll(assignment.gpuIndices()));
        return inUse;
    }

    private void assertNoGpuSharedLocked() {
        long held = byJob.values().stream().mapToLong(assignment -> assignment.gpuIndices().size()).sum();
        if (held != inUse().size()) {
            throw new IllegalStateException("two jobs hold the same GPU: " + byJob.values());
        }
    }
}
