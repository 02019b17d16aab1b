package dev.gpubroker.market.runpod;

import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;

import org.springframework.http.HttpMethod;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;

import dev.gpubroker.market.CapacityHolds;
import dev.gpubroker.market.ComputeProvider;
import dev.gpubroker.market.ProviderBilling;
import dev.gpubroker.market.GpuModelNames;
import dev.gpubroker.market.JobSignal;
import dev.gpubroker.market.JobStatus;
import dev.gpubroker.market.LaunchOutcome;
import dev.gpubroker.market.LaunchRequest;
import dev.gpubroker.market.LogPage;
import dev.gpubroker.market.Offer;
import dev.gpubroker.market.OfferQuery;
import dev.gpubroker.market.ProviderFault;
import dev.gpubroker.market.ProviderUnavailableException;
import dev.gpubroker.market.RecheckedOffers;
import dev.gpubroker.market.remote.ProviderPricing;
import dev.gpubroker.market.remote.ReadinessProbe;
import dev.gpubroker.market.remote.RemoteApi;
import reactor.core.publisher.Flux;
import reactor.core.publisher.Mono;
import tools.jackson.databind.JsonNode;
import tools.jackson.databind.json.JsonMapper;

/**
 * RunPod's pods through its REST API v2 (docs/providers/runpod.md). Offers: the GPU catalog with availability, one
 * offer per GPU type and cloud (secure and community, each with its own reliability). A job is a pod named after the
 * job id: launch looks for that name before creating (RunPod has no idempotency key), and status, logs and terminate
 * find the pod by it, so any broker instance can answer from RunPod's records alone. What status needs besides the
 * pod (the promised GPU model, the wall-clock limit) travels in the pod's own environment.
 */
final class RunpodProvider implements ComputeProvider, ProviderBilling {

    /** The status of a job whose container ended without reporting one (killed, as by SIGKILL). */
    static final int KILLED_EXIT_CODE = 137;

    static final String NAME = "runpod";
    static final String REGION = "global";
    static final int OFFERS_MAX = 200;
    static final int LOG_PAGE_MAX = 1000;
    static final String ENV_JOB_ID = "GPUBROKER_JOB_ID";
    static final String ENV_GPU_MODEL = "GPUBROKER_GPU_MODEL";
    static final String ENV_MAX_SECONDS = "GPUBROKER_MAX_SECONDS";

    /** The probe's line is the job's first; a few lines of image start-up may come before it. */
    private static final int PROBE_LINES_MAX = 50;
    /** The exit line is the job's last. */
    private static final int EXIT_TAIL_LINES = 20;
    private static final List<String> CLOUDS = List.of("SECURE", "COMMUNITY");
    private static final JsonMapper JSON = JsonMapper.builder().build();

    private final RunpodSettings settings;
    private final RemoteApi api;
    private final RemoteApi creates;
    private final RunpodLogStream logStream;
    private final ProviderPricing pricing;
    private final Clock clock;
    private final CapacityHolds holds = new RecheckedOffers(this);
    /**
     * The pod each job runs in, once known (from its create, or a list that found it): its status is then one
     * {@code GET /pods/{id}}. RunPod's pod list has no filter, so finding a pod by name reads every pod of the
     * account, and polling each job that way made every poll cost as much as all the account's pods. Forgotten when
     * the job ends, and after a day unasked.
     */
    private final Cache<String, String> podIds = Caffeine.newBuilder().expireAfterAccess(Duration.ofDays(1))
            .maximumSize(100_000).build();
    /** A pod's passed or failed readiness probe, once read: it is read from the pod's log stream only until then. */
    private final Cache<String, Probe> probes = Caffeine.newBuilder().expireAfterAccess(Duration.ofDays(1))
            .maximumSize(100_000).build();

    /** {@code api} for reads and deletes; {@code creates} for {@code POST /pods}, reading a 400 as no capacity. */
    RunpodProvider(RunpodSettings settings, RemoteApi api, RemoteApi creates, RunpodLogStream logStream,
            ProviderPricing pricing, Clock clock) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.api = Objects.requireNonNull(api, "api");
        this.creates = Objects.requireNonNull(creates, "creates");
        this.logStream = Objects.requireNonNull(logStream, "logStream");
        this.pricing = Objects.requireNonNull(pricing, "pricing");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public String name() {
        return NAME;
    }

    /** RunPod's own billing history, to reconcile against what the broker metered (admin API). */
    @Override
    public Mono<ProviderBilling.Bill> billed(Instant from, Instant to) {
        return new RunpodBilling(api).billed(from, to);
    }

    @Override
    public java.util.Optional<java.time.Duration> statusPollInterval() {
        return java.util.Optional.of(settings.statusPollInterval());
    }

    @Override
    public java.time.Duration offerTtl() {
        return settings.offerTtl();
    }

    @Override
    public CapacityHolds holds() {
        return holds;
    }

    // ---- offers

    @Override
    public Mono<List<Offer>> offers(OfferQuery query) {
        int count = query.gpuCount();
        return Flux.fromIterable(CLOUDS)
                .concatMap(cloud -> api.get("/catalog/gpus?include=AVAILABILITY&product=POD&cloud=" + cloud + "&count=" + count)
                        .map(json -> offersOf(read(json, RunpodWire.GpuTypes.class), cloud, count))
                        .defaultIfEmpty(List.of()))
                .flatMapIterable(offers -> offers)
                .take(OFFERS_MAX)
                .collectList();
    }

    /**
     * One cloud's offers: GPU types GPU Broker sells (others skipped), offered in that cloud, allowing {@code count}
     * GPUs on one pod. Free GPUs: RunPod gives an availability level for the count asked, not a number, so an offer
     * with any availability has {@code count} free (what was asked is placeable) and one with NONE has 0.
     */
    private List<Offer> offersOf(RunpodWire.GpuTypes catalog, String cloud, int count) {
        List<Offer> offers = new ArrayList<>();
        boolean secure = "SECURE".equals(cloud);
        for (RunpodWire.GpuType type : catalog.gpus() == null ? List.<RunpodWire.GpuType>of() : catalog.gpus()) {
            if (type == null || type.id() == null || type.memory() == null || type.memory() <= 0 || type.price() == null
                    || type.maxCount() == null) {
                continue;
            }
            Optional<String> model = GpuModelNames.modelOf(type.id(), type.memory() * 1024);
            boolean inCloud = Boolean.TRUE.equals(secure ? type.secure() : type.community());
            BigDecimal usdPerGpuHour = secure ? type.price().secure() : type.price().community();
            Integer maxCount = secure ? type.maxCount().secure() : type.maxCount().community();
            if (model.isEmpty() || !inCloud || usdPerGpuHour == null || usdPerGpuHour.signum() <= 0 || maxCount == null
                    || maxCount < count) {
                continue;
            }
            boolean available = type.availability() != null && !"NONE".equals(type.availability());
            offers.add(new Offer(NAME, new OfferRef(type.id(), cloud, model.get()).offerId(), model.get(), type.memory(),
                    REGION, pricing.sellingPrice(usdPerGpuHour), available ? count : 0,
                    secure ? settings.secureReliability() : settings.communityReliability()));
        }
        return offers;
    }

    // ---- launch

    @Override
    public Mono<LaunchOutcome> launch(LaunchRequest request) {
        Optional<OfferRef> offer = OfferRef.parse(request.offerId());
        if (offer.isEmpty()) {
            return Mono.just(new LaunchOutcome.LaunchFailed(new ProviderFault.ProvisioningFailed("offer "
                    + request.offerId() + " is not a RunPod offer (<gpu type>:<cloud>:<model>)")));
        }
        // A retried launch (after a timeout, or from another broker instance) finds the pod the first one created.
        return podsNamed(request.jobId()).flatMap(existing -> existing.isEmpty()
                ? create(request, offer.get())
                : Mono.just(new LaunchOutcome.Launched(request.jobId())));
    }

    private Mono<LaunchOutcome> create(LaunchRequest request, OfferRef offer) {
        Map<String, String> environment = new LinkedHashMap<>(request.environment());
        environment.put(ENV_JOB_ID, request.jobId());
        environment.put(ENV_GPU_MODEL, offer.model());
        environment.put(ENV_MAX_SECONDS, Long.toString(request.maxDuration().toSeconds()));
        String image = RunpodCommand.nonBlank(request.image()).orElse(settings.defaultImage());
        RunpodWire.CreatePod body = new RunpodWire.CreatePod(request.jobId(), image,
                new RunpodWire.GpuConfig(offer.gpuTypeId(), request.gpuCount()), RunpodCommand.args(request.command()),
                environment, offer.cloud(), settings.containerDiskGb());
        return creates.sendOnce(HttpMethod.POST, "/pods", body)
                .<LaunchOutcome>map(created -> {
                    String podId = created.path("id").asString("");
                    if (!podId.isBlank()) {
                        podIds.put(request.jobId(), podId);
                    }
                    return new LaunchOutcome.Launched(request.jobId());
                })
                .defaultIfEmpty(new LaunchOutcome.LaunchFailed(new ProviderFault.ProvisioningFailed(
                        "runpod answered 404 to creating the pod (an unknown GPU type or template)")))
                // A refusal is an outcome; a transient failure may or may not have created the pod, so it stays an
                // error and the retried launch looks for the pod by name first.
                .onErrorResume(ProviderUnavailableException.class, refused -> refused.providerFault() instanceof ProviderFault.Transient
                        ? Mono.error(refused)
                        : Mono.just(new LaunchOutcome.LaunchFailed(refused.providerFault())));
    }

    // ---- status

    @Override
    public Mono<JobStatus> status(String jobId) {
        return podOf(jobId).flatMap(pod -> pod.isEmpty()
                        ? Mono.just(lost(null, "runpod has no pod named " + jobId + " (never created, or deleted)"))
                        : statusOf(pod.get()))
                .doOnNext(status -> {
                    if (status instanceof JobStatus.Ended) {
                        forget(jobId);
                    }
                });
    }

    /** The job's pod: by its id when known (a pod gone since is looked for by name once more), else by name. */
    private Mono<Optional<RunpodWire.Pod>> podOf(String jobId) {
        Mono<Optional<RunpodWire.Pod>> byName = podsNamed(jobId).map(pods -> pods.stream().findFirst())
                .doOnNext(found -> found.ifPresent(pod -> podIds.put(jobId, pod.id())));
        String podId = podIds.getIfPresent(jobId);
        if (podId == null) {
            return byName;
        }
        return api.get("/pods/" + podId).map(json -> read(json, RunpodWire.Pod.class))
                // The pod the id names is this job's (its name is the job's id), or it is looked for again by name.
                .filter(pod -> podId.equals(pod.id()) && jobId.equals(pod.name()))
                .map(Optional::of)
                .switchIfEmpty(Mono.defer(() -> {
                    forget(jobId);
                    return byName;
                }));
    }

    private void forget(String jobId) {
        String podId = podIds.getIfPresent(jobId);
        podIds.invalidate(jobId);
        if (podId != null) {
            probes.invalidate(podId);
        }
    }

    private Mono<JobStatus> statusOf(RunpodWire.Pod pod) {
        String status = pod.status() == null ? "" : pod.status();
        return switch (status) {
            case "RUNNING" -> probe(pod).flatMap(probe -> whileRunning(pod, probe));
            case "EXITED" -> probe(pod).flatMap(probe -> afterExit(pod, probe));
            case "ERROR" -> Mono.just(lost(instant(pod.startedAt()).orElse(null),
                    "runpod reports pod " + pod.id() + " in ERROR (an unrecoverable container error)"));
            case "TERMINATED" -> Mono.just(lost(instant(pod.startedAt()).orElse(null),
                    "runpod terminated pod " + pod.id()));
            // PROVISIONING, STARTING, and a status newer than this code: not running (not billed) until it is.
            default -> notReadyInTime(pod);
        };
    }

    private record Probe(Optional<ReadinessProbe.Result> result, Optional<Instant> at) {
    }

    private Mono<Probe> probe(RunpodWire.Pod pod) {
        Probe known = probes.getIfPresent(pod.id());
        if (known != null) {
            return Mono.just(known);
        }
        return readProbe(pod).doOnNext(read -> {
            if (read.result().isPresent()) {
                probes.put(pod.id(), read);
            }
        });
    }

    private Mono<Probe> readProbe(RunpodWire.Pod pod) {
        RunpodLogStream.From from = instant(pod.createdAt()).<RunpodLogStream.From>map(RunpodLogStream.From.Since::new)
                .orElse(new RunpodLogStream.From.Tail(RunpodLogStream.TAIL_MAX));
        return logStream.read(pod.id(), from, PROBE_LINES_MAX, settings.logWindow(),
                line -> line.startsWith(ReadinessProbe.PREFIX))
                .map(events -> {
                    Optional<RunpodLogStream.LogEvent> line = events.stream()
                            .filter(event -> event.line().startsWith(ReadinessProbe.PREFIX)).findFirst();
                    return new Probe(line.flatMap(found -> ReadinessProbe.read(List.of(found.line()), promisedModel(pod),
                            promisedCount(pod))), line.flatMap(RunpodLogStream.LogEvent::at));
                });
    }

    private Mono<JobStatus> whileRunning(RunpodWire.Pod pod, Probe probe) {
        if (probe.result().isEmpty()) {
            return notReadyInTime(pod);
        }
        if (!probe.result().get().passed()) {
            return terminatePod(pod).thenReturn(lost(null, "not the GPU promised: " + probe.result().get().reason()));
        }
        Instant startedAt = startedAt(pod, probe);
        Optional<Duration> limit = maxDuration(pod);
        if (limit.isPresent() && clock.instant().isAfter(startedAt.plus(limit.get()))) {
            // RunPod has no wall-clock limit of its own: the broker stops the pod past the job's.
            return terminatePod(pod).thenReturn(new JobStatus.Ended(startedAt,
                    new JobSignal.Exited(startedAt.plus(limit.get()), 124, true), probe.result().get().reason()));
        }
        return Mono.just(new JobStatus.Running(startedAt, probe.result().get().reason()));
    }

    private Mono<JobStatus> afterExit(RunpodWire.Pod pod, Probe probe) {
        if (probe.result().isEmpty()) {
            return Mono.just(lost(null, "pod " + pod.id() + " stopped before the readiness probe reported"));
        }
        if (!probe.result().get().passed()) {
            return Mono.just(lost(null, "not the GPU promised: " + probe.result().get().reason()));
        }
        Instant startedAt = startedAt(pod, probe);
        return logStream.read(pod.id(), new RunpodLogStream.From.Tail(EXIT_TAIL_LINES), EXIT_TAIL_LINES, settings.logWindow())
                .map(tail -> {
                    OptionalInt exit = RunpodCommand.exitStatus(tail.stream().map(RunpodLogStream.LogEvent::line).toList());
                    if (exit.isEmpty()) {
                        // EXITED is the container's own end: a job that killed the shell reporting its status (or ran
                        // out of memory) ran on the GPU and is billed up to RunPod's last line, never free as a lost
                        // one would be. A pod RunPod lost is ERROR or TERMINATED, or gone.
                        Instant lastLine = tail.stream().map(RunpodLogStream.LogEvent::at).flatMap(Optional::stream)
                                .max(Instant::compareTo).filter(at -> !at.isBefore(startedAt)).orElseGet(clock::instant);
                        return new JobStatus.Ended(startedAt, new JobSignal.Exited(lastLine, KILLED_EXIT_CODE, false),
                                probe.result().get().reason());
                    }
                    Instant endedAt = tail.stream().filter(event -> event.line().startsWith(RunpodCommand.EXIT_PREFIX))
                            .reduce((first, second) -> second).flatMap(RunpodLogStream.LogEvent::at)
                            .orElseGet(clock::instant);
                    return new JobStatus.Ended(startedAt, new JobSignal.Exited(endedAt, exit.getAsInt(), false),
                            probe.result().get().reason());
                });
    }

    /** Not ready yet: still starting, unless the pod has been at it longer than the ready timeout (then it goes). */
    private Mono<JobStatus> notReadyInTime(RunpodWire.Pod pod) {
        Optional<Instant> createdAt = instant(pod.createdAt());
        if (createdAt.isPresent() && clock.instant().isAfter(createdAt.get().plus(settings.readyTimeout()))) {
            return terminatePod(pod).thenReturn(lost(null, "pod " + pod.id() + " did not become ready within "
                    + settings.readyTimeout().toMinutes() + " min of its creation (runpod status " + pod.status() + ")"));
        }
        return Mono.just(new JobStatus.Starting());
    }

    /** RunPod's own start of the container; else the probe line's time; else now. */
    private Instant startedAt(RunpodWire.Pod pod, Probe probe) {
        return instant(pod.startedAt()).or(probe::at).orElseGet(clock::instant);
    }

    private static String promisedModel(RunpodWire.Pod pod) {
        Map<String, String> env = pod.env() == null ? Map.of() : pod.env();
        return Optional.ofNullable(env.get(ENV_GPU_MODEL))
                .or(() -> pod.gpu() == null || pod.gpu().id() == null ? Optional.empty()
                        : GpuModelNames.modelOf(pod.gpu().id(), 0))
                .orElse("an unknown GPU");
    }

    private static int promisedCount(RunpodWire.Pod pod) {
        return pod.gpu() == null || pod.gpu().count() == null ? 1 : Math.max(pod.gpu().count(), 1);
    }

    private static Optional<Duration> maxDuration(RunpodWire.Pod pod) {
        String seconds = pod.env() == null ? null : pod.env().get(ENV_MAX_SECONDS);
        try {
            return seconds == null ? Optional.empty() : Optional.of(Duration.ofSeconds(Long.parseLong(seconds)));
        } catch (NumberFormatException notOurs) {
            return Optional.empty();
        }
    }

    private JobStatus.Ended lost(Instant startedAt, String reason) {
        return new JobStatus.Ended(startedAt, new JobSignal.Lost(clock.instant(), reason));
    }

    // ---- logs

    @Override
    public Mono<LogPage> logs(String jobId, String cursor, int limit) {
        int pageSize = Math.min(Math.max(limit, 1), LOG_PAGE_MAX);
        return podOf(jobId).flatMap(found -> {
            if (found.isEmpty()) {
                return Mono.just(new LogPage(List.of(), null));
            }
            RunpodWire.Pod pod = found.get();
            RunpodLogStream.From from = cursor != null ? new RunpodLogStream.From.AfterEvent(cursor)
                    : instant(pod.createdAt()).<RunpodLogStream.From>map(RunpodLogStream.From.Since::new)
                            .orElse(new RunpodLogStream.From.Tail(RunpodLogStream.TAIL_MAX));
            return logStream.read(pod.id(), from, pageSize, settings.logWindow())
                    .map(events -> new LogPage(
                            events.stream().map(RunpodLogStream.LogEvent::line).filter(RunpodCommand::isJobOutput).toList(),
                            events.isEmpty() ? cursor : events.getLast().id()));
        });
    }

    // ---- terminate

    @Override
    public Mono<Void> terminate(String jobId) {
        // By name: every pod of that name goes, one a lost create retry may have left included.
        return podsNamed(jobId).flatMapMany(Flux::fromIterable).concatMap(this::terminatePod).then()
                .doOnSuccess(done -> forget(jobId));
    }

    /** DELETE: RunPod answers 204, or 404 when it is already gone (fine). */
    private Mono<Void> terminatePod(RunpodWire.Pod pod) {
        return api.delete("/pods/" + pod.id());
    }

    // ---- helpers

    /** The pods named after this job (one, unless someone else created one of the same name). */
    private Mono<List<RunpodWire.Pod>> podsNamed(String jobId) {
        return api.get("/pods")
                .map(json -> {
                    List<RunpodWire.Pod> pods = read(json, RunpodWire.Pods.class).pods();
                    return pods == null ? List.<RunpodWire.Pod>of()
                            : pods.stream().filter(pod -> pod != null && jobId.equals(pod.name()) && pod.id() != null).toList();
                })
                .defaultIfEmpty(List.of());
    }

    private static <T> T read(JsonNode json, Class<T> type) {
        try {
            return JSON.treeToValue(json, type);
        } catch (RuntimeException unreadable) {
            throw new ProviderUnavailableException(new ProviderFault.Transient("runpod answered a " + type.getSimpleName()
                    + " this broker cannot read: " + unreadable.getMessage()));
        }
    }

    private static Optional<Instant> instant(String rfc3339) {
        try {
            return rfc3339 == null || rfc3339.isBlank() ? Optional.empty()
                    : Optional.of(java.time.OffsetDateTime.parse(rfc3339).toInstant());
        } catch (DateTimeParseException unreadable) {
            return Optional.empty();
        }
    }

    /** An offer id: {@code <gpu type id>:<cloud>:<model>} ("NVIDIA H100 80GB HBM3:SECURE:H100"). */
    record OfferRef(String gpuTypeId, String cloud, String model) {

        String offerId() {
            return gpuTypeId + ":" + cloud + ":" + model;
        }

        static Optional<OfferRef> parse(String offerId) {
            if (offerId == null) {
                return Optional.empty();
            }
            int modelAt = offerId.lastIndexOf(':');
            int cloudAt = modelAt <= 0 ? -1 : offerId.lastIndexOf(':', modelAt - 1);
            if (cloudAt <= 0) {
                return Optional.empty();
            }
            String cloud = offerId.substring(cloudAt + 1, modelAt).toUpperCase(Locale.ROOT);
            String model = offerId.substring(modelAt + 1);
            if (!CLOUDS.contains(cloud) || !dev.gpubroker.market.GpuModels.isKnown(model)) {
                return Optional.empty();
            }
            return Optional.of(new OfferRef(offerId.substring(0, cloudAt), cloud, model));
        }
    }
}
