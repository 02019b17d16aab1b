package dev.gpubroker.market.local;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gpubroker.market.CapacityHolds;
import dev.gpubroker.market.ComputeProvider;
import dev.gpubroker.market.HostedCapacity;
import dev.gpubroker.market.HoldOutcome;
import dev.gpubroker.market.HoldRequest;
import dev.gpubroker.market.JobAdmission;
import dev.gpubroker.market.JobStatus;
import dev.gpubroker.market.LaunchOutcome;
import dev.gpubroker.market.LaunchRequest;
import dev.gpubroker.market.LogPage;
import dev.gpubroker.market.Offer;
import dev.gpubroker.market.OfferQuery;
import dev.gpubroker.market.ProviderFault;
import dev.gpubroker.market.process.JobSandbox;
import dev.gpubroker.market.process.ProcessJobRunner;
import dev.gpubroker.market.process.ProcessSpec;
import reactor.core.publisher.Mono;

/**
 * Provider {@code local}: this host's GPUs, one offer per model. Capacity is counted in the database like the demo
 * marketplace's (a hold is a conditional increment, so concurrent reservations cannot oversell); at launch the job is
 * given named GPUs no running job holds ({@link GpuAssignments}), recorded on disk so that a restart keeps them taken.
 * Jobs run through {@link ProcessJobRunner}: the image in docker or podman with only those GPUs, or the command itself
 * in the job sandbox with {@code CUDA_VISIBLE_DEVICES} naming them ({@link JobProcessSpecs}, {@link JobSandbox}).
 */
final class LocalProvider implements ComputeProvider, CapacityHolds, JobAdmission {

    static final String NAME = "local";
    private static final Logger log = LoggerFactory.getLogger(LocalProvider.class);
    private static final Duration CONTAINER_REMOVAL_TIMEOUT = Duration.ofSeconds(30);
    /**
     * How long a failure to list this host's GPUs is answered before nvidia-smi is asked again: a quote in that second
     * names the provider as unavailable with the reason, and a host with a broken driver is not asked on every quote.
     */
    static final Duration ASK_AGAIN_AFTER = Duration.ofSeconds(1);

    private final LocalSettings settings;
    private final Mono<LocalHost> host;
    private final HostedCapacity capacity;
    private final ProcessJobRunner jobs;
    private final JobSandbox sandbox;
    private final GpuAssignments assignments = new GpuAssignments();
    private final AssignmentRecords records;
    private final Set<String> followed = ConcurrentHashMap.newKeySet();
    private final Mono<Void> capacitySeeded;
    private final Mono<Void> assignmentsRestored;

    /**
     * @param dataDir jobs run in {@code <dataDir>/jobs/<job id>} (as the demo marketplace's do), their GPU records
     *                live in {@code <dataDir>/local-gpus}
     */
    LocalProvider(LocalSettings settings, List<DetectedGpu> gpus, Optional<ContainerRuntime> containerRuntime,
            HostedCapacity capacity, Path dataDir, JobSandbox sandbox, Clock clock) {
        this(settings, Mono.just(new LocalHost(LocalInventory.from(gpus), containerRuntime)), capacity, dataDir, sandbox,
                clock);
    }

    /**
     * @param host what this host has (nvidia-smi, a working container runtime): found once, then kept; a failure to find
     *             it is asked again on a use after {@link #ASK_AGAIN_AFTER}
     */
    LocalProvider(LocalSettings settings, Mono<LocalHost> host, HostedCapacity capacity, Path dataDir,
            JobSandbox sandbox, Clock clock) {
        this.settings = settings;
        this.sandbox = sandbox;
        this.host = host.cache(found -> Duration.ofDays(36500), error -> ASK_AGAIN_AFTER, () -> Duration.ofDays(36500));
        this.capacity = capacity;
        this.jobs = new ProcessJobRunner(NAME, dataDir.resolve("jobs"), sandbox, ProcessJobRunner.Faults.NONE, clock);
        this.records = new AssignmentRecords(dataDir.resolve("local-gpus"));
        // The inventory sets each offer's capacity once, on first use; holds already in the database are kept.
        this.capacitySeeded = this.host.flatMap(found -> capacity.seed(NAME, found.inventory().offers().stream()
                        .collect(Collectors.toMap(LocalOffer::offerId, LocalOffer::capacity))))
                .cache(ignored -> Duration.ofDays(36500), error -> Duration.ZERO, () -> Duration.ofDays(36500));
        this.assignmentsRestored = Mono.defer(this::restoreAssignments)
                .cache(ignored -> Duration.ofDays(36500), error -> Duration.ZERO, () -> Duration.ofDays(36500));
    }

    @Override
    public String name() {
        return NAME;
    }

    /**
     * A container sets its own PATH and HOME (the image's): only the GPU variables are the provider's. A plain command
     * gets the sandbox's too.
     */
    @Override
    public Set<String> reservedVariables(String image) {
        Set<String> reserved = new java.util.HashSet<>(JobProcessSpecs.GPU_VARIABLES);
        if (image == null) {
            reserved.addAll(JobSandbox.RESERVED_VARIABLES);
        }
        return Set.copyOf(reserved);
    }

    /** A plain command runs only in the sandbox; an image runs in a container (refused at launch where none works). */
    @Override
    public Optional<Refusal> admit(List<String> command, String image) {
        return image == null ? sandbox.admitCommand(NAME) : Optional.empty();
    }

    /**
     * Asks this host what it has, in the background, so that the first quote finds the answer ready instead of waiting
     * for nvidia-smi and the container runtimes (seconds on a host whose driver is not kept loaded) under its
     * provider timeout. A failure is logged where it happens and asked again on the next use.
     */
    void lookAtHost() {
        host.subscribe(found -> { }, failed -> { });
    }

    /** The GPUs this host sells, once nvidia-smi has answered. */
    Mono<LocalInventory> inventory() {
        return host.map(LocalHost::inventory);
    }

    /** The GPU indices running jobs hold now. */
    Set<Integer> gpusInUse() {
        return assignments.inUse();
    }

    @Override
    public Mono<List<Offer>> offers(OfferQuery query) {
        return host.flatMap(found -> found.inventory().isEmpty() ? Mono.just(List.<Offer>of())
                : capacitySeeded.then(Mono.defer(() -> capacity.freeUnits(NAME)))
                        .map(free -> toOffers(found.inventory(), free)));
    }

    /** This market really holds capacity (rows in the database), so a reservation's GPUs cannot be sold twice. */
    @Override
    public CapacityHolds holds() {
        return this;
    }

    @Override
    public Mono<HoldOutcome> hold(HoldRequest request) {
        return host.flatMap(found -> {
            LocalInventory inventory = found.inventory();
            Optional<LocalOffer> offer = inventory.find(request.offerId());
            if (offer.isEmpty()) {
                return Mono.just(new HoldOutcome.Unholdable("offer " + request.offerId() + " is not on this host (it has "
                        + inventory + ")"));
            }
            return capacitySeeded
                    .then(capacity.hold(request.holdId(), NAME, request.offerId(), request.gpuCount()))
                    .map(held -> held
                            ? new HoldOutcome.Held(request.holdId())
                            : new HoldOutcome.NoCapacity("all " + offer.get().capacity() + " " + offer.get().gpu()
                                    + " GPUs of this host are taken"));
        });
    }

    /**
     * Releases the held count. The GPUs a job was given stay taken until its process has ended, even when its hold goes
     * first: a GPU still in use is never handed to another job.
     */
    @Override
    public Mono<Void> release(String holdId) {
        return capacity.release(holdId);
    }

    @Override
    public Mono<LaunchOutcome> launch(LaunchRequest request) {
        return assignmentsRestored.then(host).flatMap(found -> {
            LocalInventory inventory = found.inventory();
            Optional<ContainerRuntime> containerRuntime = found.containerRuntime();
            Optional<LocalOffer> offer = inventory.find(request.offerId());
            if (offer.isEmpty()) {
                return Mono.just(failed("offer " + request.offerId() + " is not on this host (it has " + inventory + ")"));
            }
            Optional<ContainerRuntime> container = Optional.empty();
            if (request.image() != null) {
                if (containerRuntime.isEmpty()) {
                    return Mono.just(failed("this host has no working container runtime (docker or podman) to run image "
                            + request.image() + "; run the command without an image, or choose another provider"));
                }
                if (!JobProcessSpecs.isImageReference(request.image())) {
                    return Mono.just(failed("'" + request.image() + "' is not a container image reference"));
                }
                container = containerRuntime;
            }
            Optional<GpuAssignment> assigned = assignments.assign(request.jobId(), offer.get(), request.gpuCount(),
                    container);
            if (assigned.isEmpty()) {
                return Mono.just(new LaunchOutcome.LaunchFailed(new ProviderFault.NoCapacity("fewer than "
                        + request.gpuCount() + " of this host's " + offer.get().capacity() + " " + offer.get().gpu()
                        + " GPUs are free: the others run jobs")));
            }
            GpuAssignment assignment = assigned.get();
            return records.write(assignment)
                    .then(Mono.fromCallable(() -> processSpec(request, assignment)))
                    .flatMap(spec -> jobs.launch(request.jobId(), spec, request.maxDuration()))
                    .flatMap(outcome -> switch (outcome) {
                        case LaunchOutcome.Launched launched -> {
                            log.info("Job {} runs on this host's GPUs {} ({})", request.jobId(), assignment.gpuIndices(),
                                    assignment.container().map(ContainerRuntime::executable).orElse("on the host"));
                            follow(assignment);
                            yield Mono.just(outcome);
                        }
                        case LaunchOutcome.LaunchFailed refused -> freeGpus(assignment.jobId()).thenReturn(outcome);
                    })
                    .onErrorResume(error -> freeGpus(assignment.jobId()).then(Mono.error(error)));
        });
    }

    @Override
    public Mono<JobStatus> status(String jobId) {
        // After a restart the first call may be this (the job engine following a job again): GPUs first.
        return assignmentsRestored.then(Mono.defer(() -> jobs.status(jobId)));
    }

    @Override
    public Mono<LogPage> logs(String jobId, String cursor, int limit) {
        return jobs.logs(jobId, cursor, limit);
    }

    /** Stops the job; a container is removed at once, since stopping its client does not stop it. */
    @Override
    public Mono<Void> terminate(String jobId) {
        return assignmentsRestored.then(Mono.defer(() -> jobs.terminate(jobId)))
                .then(Mono.defer(() -> assignments.find(jobId).map(this::removeContainer).orElse(Mono.empty())));
    }

    private static LaunchOutcome failed(String reason) {
        return new LaunchOutcome.LaunchFailed(reason);
    }

    private static ProcessSpec processSpec(LaunchRequest request, GpuAssignment assignment) {
        return assignment.container()
                .<ProcessSpec>map(runtime -> JobProcessSpecs.inContainer(runtime, request.jobId(), assignment.gpuIndices(),
                        request.image(), request.command(), request.environment(), System.getenv()))
                .orElseGet(() -> JobProcessSpecs.onHost(request.jobId(), assignment.gpuIndices(), request.command(),
                        request.environment()));
    }

    /**
     * Frees the job's GPUs once it has ended, however it ends (exit, maximum duration, terminate, lost), whether or not
     * anybody watches it. A container is removed first: when its client is killed, the container would run on.
     */
    private void follow(GpuAssignment assignment) {
        if (!followed.add(assignment.jobId())) {
            return;
        }
        jobs.watch(assignment.jobId())
                .then(removeContainer(assignment))
                .then(freeGpus(assignment.jobId()))
                .doFinally(signal -> followed.remove(assignment.jobId()))
                .subscribe(ignored -> { }, error -> log.warn("Job {}: freeing its GPUs {} failed: {}",
                        assignment.jobId(), assignment.gpuIndices(), error.toString()));
    }

    private Mono<Void> freeGpus(String jobId) {
        // Free before whoever waits on this hears of it (doFinally runs only after the signal has gone downstream: a
        // launch's caller could see the failure while the GPUs still looked taken), whether the record went or not.
        return records.delete(jobId)
                .doOnTerminate(() -> assignments.free(jobId))
                .doOnCancel(() -> assignments.free(jobId));
    }

    private Mono<Void> removeContainer(GpuAssignment assignment) {
        return assignment.container()
                .map(runtime -> ShortCommand.run(runtime.removeCommand(JobProcessSpecs.containerName(assignment.jobId())),
                                CONTAINER_REMOVAL_TIMEOUT)
                        .doOnNext(result -> log.debug("{} rm of job {}'s container: exit {} ({})", runtime.executable(),
                                assignment.jobId(), result.exitCode(), result.firstLine()))
                        .onErrorResume(error -> {
                            log.warn("Could not remove the container of job {}: {}", assignment.jobId(), error.toString());
                            return Mono.empty();
                        })
                        .then())
                .orElse(Mono.empty());
    }

    /** The assignments of jobs that were running when the broker stopped: taken again, and freed when those end. */
    private Mono<Void> restoreAssignments() {
        return records.readAll().doOnNext(found -> found.forEach(assignment -> {
            if (assignments.restore(assignment)) {
                log.info("Job {} still holds this host's GPUs {} from before the restart", assignment.jobId(),
                        assignment.gpuIndices());
                follow(assignment);
            } else {
                log.warn("GPU record of job {} names GPUs {} another job holds: ignored", assignment.jobId(),
                        assignment.gpuIndices());
            }
        })).then();
    }

    private List<Offer> toOffers(LocalInventory inventory, Map<String, Integer> freeUnitsByOffer) {
        return inventory.offers().stream()
                .map(offer -> new Offer(NAME, offer.offerId(), offer.gpu(), offer.vramGb(), settings.region(),
                        settings.price(), Math.min(offer.capacity(), freeUnitsByOffer.getOrDefault(offer.offerId(), 0)),
                        settings.reliability()))
                .toList();
    }

    /** What nvidia-smi found and the container runtime that works, if any. */
    record LocalHost(LocalInventory inventory, Optional<ContainerRuntime> containerRuntime) {
    }
}
