package dev.gpubroker.market.kubernetes;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import dev.gpubroker.market.JobSignal;
import dev.gpubroker.market.JobStatus;
import dev.gpubroker.market.ProviderFault;
import dev.gpubroker.market.remote.ReadinessProbe;
import io.fabric8.kubernetes.api.model.ContainerState;
import io.fabric8.kubernetes.api.model.ContainerStatus;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodCondition;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.api.model.batch.v1.JobCondition;

/**
 * Where a job stands, read from its Job, its pod and the first lines of the pod's log: one place for every mapping of
 * the cluster's states to {@link JobStatus}. Pure: the provider fetches, this decides, including when the Job must be
 * deleted because it will never give what was promised (an image that cannot be pulled, not the GPU promised).
 */
final class JobReading {

    /**
     * The status to answer; {@code giveUp} is set when the Job will never give what was promised: it is deleted, and a
     * launch that finds it answers this fault.
     */
    record Verdict(JobStatus status, ProviderFault giveUp) {

        static Verdict answer(JobStatus status) {
            return new Verdict(status, null);
        }

        static Verdict giveUp(Instant at, String reason) {
            return new Verdict(new JobStatus.Ended(null, new JobSignal.Lost(at, reason)),
                    new ProviderFault.ProvisioningFailed(reason));
        }
    }

    private static final Set<String> IMAGE_PULL_FAILURES = Set.of("ErrImagePull", "ImagePullBackOff",
            "InvalidImageName", "ErrImageNeverPull");
    private static final Set<String> NEVER_PULLABLE = Set.of("InvalidImageName", "ErrImageNeverPull");
    // Pod phases and reasons of a pod the cluster took away: not the job's doing, never its exit.
    private static final Set<String> TAKEN_AWAY_REASONS = Set.of("Evicted", "NodeLost", "Shutdown", "NodeShutdown",
            "Terminated", "Preempting", "UnexpectedAdmissionError");
    static final int TIMED_OUT_EXIT_CODE = 124;

    private JobReading() {
    }

    /** Whether the pod has ended (its container will write no more). */
    static boolean ended(Pod pod) {
        String phase = phaseOf(pod);
        return "Succeeded".equals(phase) || "Failed".equals(phase);
    }

    /** Whether the pod's log is needed to decide (its container started: the probe line may be there). */
    static boolean needsLogs(Pod pod) {
        String phase = phaseOf(pod);
        return "Running".equals(phase) || "Succeeded".equals(phase) || "Failed".equals(phase);
    }

    /** The pod the Job made last (with backoffLimit 0 there is one; a replaced pod is newer). */
    static Optional<Pod> newest(List<Pod> pods) {
        return pods.stream().max(Comparator.comparing(pod -> instantOf(pod.getMetadata().getCreationTimestamp())
                .orElse(Instant.EPOCH)));
    }

    static Verdict read(Job job, Pod pod, List<String> firstLogLines, Instant now, Duration imagePullTimeout) {
        if (job == null) {
            return Verdict.answer(new JobStatus.Ended(null, new JobSignal.Lost(now,
                    "the Job is not in the cluster (deleted, or never created)")));
        }
        Map<String, String> annotations = job.getMetadata().getAnnotations() == null ? Map.of()
                : job.getMetadata().getAnnotations();
        String model = annotations.getOrDefault(JobManifests.GPU_MODEL_ANNOTATION, "");
        int count = parseCount(annotations.get(JobManifests.GPU_COUNT_ANNOTATION));
        Optional<ReadinessProbe.Result> probe = pod == null ? Optional.empty()
                : ReadinessProbe.read(firstLogLines, model, count);
        Instant startedAt = probe.filter(ReadinessProbe.Result::passed)
                .map(passed -> containerStartedAt(pod).orElse(now)).orElse(null);

        Optional<JobCondition> failed = condition(job, "Failed");
        if (failed.filter(condition -> "DeadlineExceeded".equals(condition.getReason())).isPresent()) {
            Instant at = instantOf(failed.get().getLastTransitionTime()).orElse(now);
            return Verdict.answer(new JobStatus.Ended(startedAt, new JobSignal.Exited(at, TIMED_OUT_EXIT_CODE, true)));
        }
        if (pod != null && takenAway(pod)) {
            return Verdict.answer(new JobStatus.Ended(startedAt, new JobSignal.Lost(now, "the cluster took the pod away ("
                    + describe(pod.getStatus().getReason(), pod.getStatus().getMessage()) + ")")));
        }
        if (pod == null) {
            if (failed.isPresent()) {
                return Verdict.answer(new JobStatus.Ended(null, new JobSignal.Lost(now, "the Job failed without a pod ("
                        + describe(failed.get().getReason(), failed.get().getMessage()) + ")")));
            }
            // Waiting for Kueue to admit it, or for the Job controller to make its pod.
            return Verdict.answer(new JobStatus.Starting());
        }
        return switch (phaseOf(pod)) {
            case "Pending" -> pending(pod, now, imagePullTimeout);
            case "Running" -> running(probe, startedAt, now);
            case "Succeeded", "Failed" -> ended(pod, probe, startedAt, now);
            default -> Verdict.answer(new JobStatus.Ended(startedAt, new JobSignal.Lost(now,
                    "the cluster lost track of the pod (phase " + phaseOf(pod) + ": its node may be gone)")));
        };
    }

    private static Verdict pending(Pod pod, Instant now, Duration imagePullTimeout) {
        Optional<ContainerState> waiting = containerStatus(pod).map(ContainerStatus::getState)
                .filter(state -> state.getWaiting() != null && state.getWaiting().getReason() != null
                        && IMAGE_PULL_FAILURES.contains(state.getWaiting().getReason()));
        if (waiting.isPresent()) {
            String reason = waiting.get().getWaiting().getReason();
            // Counted from when the kubelet took the pod (its startTime), which is when pulling began; a pod queued
            // before that (Kueue, the scheduler) was not pulling.
            Instant pulling = instantOf(pod.getStatus().getStartTime())
                    .or(() -> instantOf(pod.getMetadata().getCreationTimestamp())).orElse(now);
            if (NEVER_PULLABLE.contains(reason) || !pulling.plus(imagePullTimeout).isAfter(now)) {
                return Verdict.giveUp(now, "provisioning failed: the image could not be pulled ("
                        + describe(reason, waiting.get().getWaiting().getMessage()) + ")");
            }
        }
        return Verdict.answer(new JobStatus.Starting());
    }

    private static Verdict running(Optional<ReadinessProbe.Result> probe, Instant startedAt, Instant now) {
        if (probe.isEmpty()) {
            return Verdict.answer(new JobStatus.Starting());
        }
        if (!probe.get().passed()) {
            return Verdict.giveUp(now, "not the GPU promised: " + probe.get().reason());
        }
        return Verdict.answer(new JobStatus.Running(startedAt, probe.get().reason()));
    }

    private static Verdict ended(Pod pod, Optional<ReadinessProbe.Result> probe, Instant startedAt, Instant now) {
        Optional<ContainerState> terminated = containerStatus(pod).map(ContainerStatus::getState)
                .filter(state -> state.getTerminated() != null);
        int exitCode = terminated.map(state -> state.getTerminated().getExitCode()).orElse(-1);
        Instant at = terminated.flatMap(state -> instantOf(state.getTerminated().getFinishedAt())).orElse(now);
        if (probe.isPresent() && !probe.get().passed()) {
            return Verdict.answer(new JobStatus.Ended(null, new JobSignal.Lost(at,
                    "not the GPU promised: " + probe.get().reason())));
        }
        if (probe.isEmpty()) {
            return Verdict.answer(new JobStatus.Ended(null, new JobSignal.Lost(at, "the container ended (exit code "
                    + exitCode + ") before its readiness probe reported the GPUs")));
        }
        return Verdict.answer(new JobStatus.Ended(startedAt, new JobSignal.Exited(at, exitCode, false),
                probe.get().reason()));
    }

    private static boolean takenAway(Pod pod) {
        if (pod.getStatus() == null) {
            return false;
        }
        if (pod.getStatus().getReason() != null && TAKEN_AWAY_REASONS.contains(pod.getStatus().getReason())) {
            return true;
        }
        // The control plane marks a pod it is about to delete (preemption, eviction, node gone) with DisruptionTarget.
        List<PodCondition> conditions = pod.getStatus().getConditions();
        return "Failed".equals(pod.getStatus().getPhase()) && conditions != null && conditions.stream()
                .anyMatch(condition -> "DisruptionTarget".equals(condition.getType()) && "True".equals(condition.getStatus()));
    }

    private static Optional<Instant> containerStartedAt(Pod pod) {
        Optional<ContainerState> state = containerStatus(pod).map(ContainerStatus::getState);
        Optional<String> started = state.map(s -> s.getRunning() != null ? s.getRunning().getStartedAt()
                : s.getTerminated() != null ? s.getTerminated().getStartedAt() : null);
        return started.flatMap(JobReading::instantOf)
                .or(() -> Optional.ofNullable(pod.getStatus().getStartTime()).flatMap(JobReading::instantOf));
    }

    private static Optional<ContainerStatus> containerStatus(Pod pod) {
        if (pod.getStatus() == null || pod.getStatus().getContainerStatuses() == null) {
            return Optional.empty();
        }
        return pod.getStatus().getContainerStatuses().stream()
                .filter(status -> JobManifests.CONTAINER.equals(status.getName()) && status.getState() != null)
                .findFirst();
    }

    private static Optional<JobCondition> condition(Job job, String type) {
        if (job.getStatus() == null || job.getStatus().getConditions() == null) {
            return Optional.empty();
        }
        return job.getStatus().getConditions().stream()
                .filter(condition -> type.equals(condition.getType()) && "True".equals(condition.getStatus()))
                .findFirst();
    }

    private static String phaseOf(Pod pod) {
        return pod == null || pod.getStatus() == null || pod.getStatus().getPhase() == null ? "Pending"
                : pod.getStatus().getPhase();
    }

    private static String describe(String reason, String message) {
        String said = (reason == null ? "" : reason) + (message == null || message.isBlank() ? "" : ": " + message);
        said = said.isBlank() ? "no reason given" : said;
        return said.length() <= 300 ? said : said.substring(0, 300) + "…";
    }

    private static int parseCount(String count) {
        try {
            return count == null ? 1 : Math.max(1, Integer.parseInt(count));
        } catch (NumberFormatException notANumber) {
            return 1;
        }
    }

    static Optional<Instant> instantOf(String timestamp) {
        if (timestamp == null || timestamp.isBlank()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.parse(timestamp));
        } catch (DateTimeParseException notRfc3339) {
            return Optional.empty();
        }
    }
}
