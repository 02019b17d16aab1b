package dev.gpubroker.market.demo;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.stream.Collectors;

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
import dev.gpubroker.market.ProviderUnavailableException;
import dev.gpubroker.market.process.JobSandbox;
import dev.gpubroker.market.process.ProcessJobRunner;
import dev.gpubroker.market.process.ProcessSpec;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * One simulated provider of the demo marketplace. It answers after a realistic latency, and misbehaves as its
 * settings say: sometimes no answer at all, sometimes an API error, sometimes a listed offer that cannot be held, a
 * launch that fails or a node lost mid-run. Its jobs run for real, as local processes in the job sandbox
 * ({@link ProcessJobRunner}, {@link JobSandbox}).
 */
final class DemoProvider implements ComputeProvider, CapacityHolds, JobAdmission {

    /** The variables a demo node sets in every job, besides the sandbox's own. */
    private static final Set<String> GPU_VARIABLES = Set.of("CUDA_VISIBLE_DEVICES", "NVIDIA_VISIBLE_DEVICES");

    private final DemoProviderSettings settings;
    private final HostedCapacity capacity;
    private final Map<String, DemoProviderSettings.DemoOffer> offersById;
    private final Mono<Void> capacitySeeded;

    private final ProcessJobRunner jobs;
    private final JobSandbox sandbox;

    DemoProvider(DemoProviderSettings settings, HostedCapacity capacity, java.nio.file.Path jobsDir,
            JobSandbox sandbox, java.time.Clock clock) {
        this.settings = settings;
        this.capacity = capacity;
        this.sandbox = sandbox;
        this.jobs = new ProcessJobRunner(settings.name(), jobsDir, sandbox, new ProcessJobRunner.Faults(
                settings.launchFailureProbability(), settings.nodeLossProbability(), settings.nodeLossAfter()), clock);
        this.offersById = settings.offers().stream()
                .collect(Collectors.toUnmodifiableMap(DemoProviderSettings.DemoOffer::offerId, Function.identity()));
        // The catalog's capacity is written once, on first use; holds already in the database are kept.
        this.capacitySeeded = Mono.defer(() -> capacity.seed(settings.name(),
                        settings.offers().stream().collect(Collectors.toMap(DemoProviderSettings.DemoOffer::offerId,
                                DemoProviderSettings.DemoOffer::capacity))))
                .cache(ignored -> Duration.ofDays(36500), error -> Duration.ZERO, () -> Duration.ofDays(36500));
    }

    @Override
    public String name() {
        return settings.name();
    }

    @Override
    public Mono<List<Offer>> offers(OfferQuery query) {
        return Mono.defer(() -> {
            ThreadLocalRandom random = ThreadLocalRandom.current();
            if (random.nextDouble() < settings.hangProbability()) {
                return Mono.never();
            }
            if (random.nextDouble() < settings.errorProbability()) {
                return Mono.delay(latency())
                        .then(Mono.error(new ProviderUnavailableException("provider API answered HTTP 503 (simulated outage)")));
            }
            // The capacity is read while the answer is on its way, as a remote provider does its work within its
            // answer time (read after the wait, 32 providers' reads queued up behind 32 timers firing at once), and
            // the read is started on another thread: a quote subscribes to its providers one after the other on one
            // thread, and the read's set-up there (a pooled connection, a statement) would delay every later
            // provider's timer. Subscribing here costs a timer and a task, as sending a request to a remote one does.
            return Mono.zip(Mono.delay(latency()), capacitySeeded.then(capacity.freeUnits(settings.name()))
                            .subscribeOn(Schedulers.parallel()), (answerTime, free) -> free)
                    .map(this::toOffers);
        });
    }

    /** This market really holds capacity (rows in the database), so a reservation's GPUs cannot be sold twice. */
    @Override
    public CapacityHolds holds() {
        return this;
    }

    @Override
    public Mono<HoldOutcome> hold(HoldRequest request) {
        return Mono.defer(() -> {
            DemoProviderSettings.DemoOffer offer = offersById.get(request.offerId());
            if (offer == null) {
                return Mono.just(new HoldOutcome.Unholdable("offer " + request.offerId() + " is no longer listed"));
            }
            if (ThreadLocalRandom.current().nextDouble() < settings.holdRefusalProbability()) {
                return Mono.delay(latency()).thenReturn(new HoldOutcome.Unholdable(
                        "the host behind this listing did not respond (simulated stale listing)"));
            }
            return Mono.delay(latency()).then(capacitySeeded)
                    .then(capacity.hold(request.holdId(), settings.name(), offer.offerId(), request.gpuCount()))
                    .map(held -> held
                            ? new HoldOutcome.Held(request.holdId())
                            : new HoldOutcome.NoCapacity("all " + offer.capacity() + " " + offer.gpu() + " GPUs of offer "
                                    + offer.offerId() + " are taken"));
        });
    }

    @Override
    public Mono<Void> release(String holdId) {
        return capacity.release(holdId);
    }

    @Override
    public Set<String> reservedVariables(String image) {
        return union(JobSandbox.RESERVED_VARIABLES, GPU_VARIABLES);
    }

    /** A demo node runs every job as a plain command (an image is not pulled): only in the sandbox. */
    @Override
    public Optional<Refusal> admit(List<String> command, String image) {
        return sandbox.admitCommand(name());
    }

    private static Set<String> union(Set<String> first, Set<String> second) {
        Set<String> all = new java.util.HashSet<>(first);
        all.addAll(second);
        return Set.copyOf(all);
    }

    @Override
    public Mono<LaunchOutcome> launch(LaunchRequest request) {
        // A demo node runs the command itself (a container image is not pulled); the GPUs it "assigns" are the first
        // gpuCount devices, named the way a real provider names them to the job.
        String devices = java.util.stream.IntStream.range(0, request.gpuCount()).mapToObj(Integer::toString)
                .collect(Collectors.joining(","));
        Map<String, String> environment = new java.util.HashMap<>(request.environment());
        GPU_VARIABLES.forEach(name -> environment.put(name, devices));
        environment.put("GPUBROKER_JOB_ID", request.jobId());
        return Mono.delay(latency().plus(settings.launchDelay()))
                .then(jobs.launch(request.jobId(), new ProcessSpec.Command(request.command(), environment),
                        request.maxDuration()));
    }

    @Override
    public Mono<JobStatus> status(String jobId) {
        return jobs.status(jobId);
    }

    @Override
    public Mono<LogPage> logs(String jobId, String cursor, int limit) {
        return jobs.logs(jobId, cursor, limit);
    }

    @Override
    public Mono<Void> terminate(String jobId) {
        return jobs.terminate(jobId);
    }

    private List<Offer> toOffers(Map<String, Integer> freeUnitsByOffer) {
        return settings.offers().stream()
                .map(offer -> new Offer(settings.name(), offer.offerId(), offer.gpu(), offer.vramGb(), offer.region(),
                        offer.price(), freeUnitsByOffer.getOrDefault(offer.offerId(), 0), settings.reliability()))
                .toList();
    }

    private Duration latency() {
        long min = settings.latencyMin().toMillis();
        long max = settings.latencyMax().toMillis();
        return Duration.ofMillis(min == max ? min : ThreadLocalRandom.current().nextLong(min, max + 1));
    }
}
