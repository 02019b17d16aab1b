package dev.gpubroker.market.shadeform;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import org.springframework.http.HttpMethod;

import dev.gpubroker.market.CapacityHolds;
import dev.gpubroker.market.ComputeProvider;
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

/**
 * Shadeform (one API key for many clouds): its instance types with availability are the offers; a job is a VM
 * instance named after the job id that runs the job's container ({@code launch_configuration} of type docker).
 * Shadeform's API reports the VM's status only, not the container's nor its output, so the broker watches the
 * container itself: every VM is created letting the broker's own SSH key in ({@link ShadeformSshKey}), and a status
 * poll of an active VM reads {@code docker inspect} and the container's first output lines there ({@link VmShell},
 * {@link ShadeformContainer}). A job is billed from the Docker daemon's stamp of its readiness probe's line, once that
 * line lists the promised GPUs; its end is the container's, and the VM is deleted then (after {@code logRetention},
 * so that its agent can still read the output). See docs/providers/shadeform.md.
 */
final class ShadeformProvider implements ComputeProvider {

    static final String NAME = "shadeform";

    private static final Logger log = LoggerFactory.getLogger(ShadeformProvider.class);

    /** The most of a status poll's or a log page's output read from the VM. */
    private static final int OBSERVATION_MAX_BYTES = 64 * 1024;
    private static final int LOG_PAGE_MAX_BYTES = 1024 * 1024;
    private static final int LOG_PAGE_MAX_LINES = 1000;

    /** The tag that carries the job's time limit, so that any broker instance can enforce it. */
    static final String LIMIT_TAG_PREFIX = "gpubroker-max-seconds-";
    /**
     * The tag that carries the container's exit ({@code gpubroker-exited-<epoch millis>-<code>}), written when a broker
     * first sees it: once the VM is deleting, Docker cannot be asked again, and any broker instance still bills the job
     * to its real end, not to the deletion.
     */
    static final String EXIT_TAG_PREFIX = "gpubroker-exited-";
    static final String JOB_TAG = "gpubroker-job";

    private static final int EXIT_TIMED_OUT = 124;

    /**
     * The broker deletes a job at its limit by its own clock and reads Shadeform's {@code deleted_at} by Shadeform's:
     * a deletion this close before the limit was the limit's.
     */
    private static final Duration CLOCK_SKEW_MAX = Duration.ofMinutes(1);

    private final ShadeformSettings settings;
    private final RemoteApi api;
    private final RemoteApi creates;
    private final ProviderPricing pricing;
    private final Clock clock;
    private final RecheckedOffers holds = new RecheckedOffers(this);
    private final VmShell shell;
    private final Mono<String> sshKeyId;
    /** The jobs whose VM this instance will delete once their output has been kept for {@code logRetention}. */
    private final Set<String> deletionsDue = ConcurrentHashMap.newKeySet();

    ShadeformProvider(ShadeformSettings settings, RemoteApi api, RemoteApi creates, ProviderPricing pricing, Clock clock,
            VmShell shell) {
        this.settings = settings;
        this.api = api;
        this.creates = creates;
        this.pricing = pricing;
        this.clock = clock;
        this.shell = shell;
        // Asked of Shadeform once per broker process (again only after a failure).
        this.sshKeyId = registeredSshKeyId().cache(id -> Duration.ofDays(36_500), failed -> Duration.ZERO, () -> Duration.ZERO);
    }

    /** The id under which Shadeform knows the broker's SSH key: found among the account's keys, else added. */
    private Mono<String> registeredSshKeyId() {
        ShadeformSshKey sshKey = shell.key();
        return api.get("/sshkeys")
                .map(json -> read(json, ShadeformWire.SshKeys.class))
                .flatMap(keys -> Mono.justOrEmpty((keys.sshKeys() == null ? List.<ShadeformWire.SshKey>of() : keys.sshKeys())
                        .stream().filter(key -> key.id() != null && sshKey.isPublicHalfOf(key.publicKey()))
                        .map(ShadeformWire.SshKey::id).findFirst()))
                .switchIfEmpty(Mono.defer(() -> api.sendOnce(HttpMethod.POST, "/sshkeys/add",
                                ShadeformWire.JSON.valueToTree(new ShadeformWire.AddSshKey(
                                        "gpubroker-" + Instant.now(clock).getEpochSecond(), sshKey.publicKeyLine())))
                        .map(json -> read(json, ShadeformWire.AddSshKeyResponse.class))
                        .flatMap(added -> Mono.justOrEmpty(added.id()))
                        .doOnNext(id -> log.info("Provider shadeform: added the broker's SSH key to the account as {}", id))))
                .switchIfEmpty(Mono.error(() -> new ProviderUnavailableException(new ProviderFault.Transient(
                        "shadeform answered no id for the broker's SSH key"))));
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public java.util.Optional<java.time.Duration> statusPollInterval() {
        return java.util.Optional.of(settings.statusPollInterval());
    }

    @Override
    public Duration offerTtl() {
        return settings.offerTtl();
    }

    @Override
    public CapacityHolds holds() {
        return holds;
    }

    @Override
    public Mono<List<Offer>> offers(OfferQuery query) {
        return api.get("/instances/types?available=true&num_gpus=" + query.gpuCount())
                .map(json -> read(json, ShadeformWire.InstanceTypes.class))
                .map(types -> ShadeformCatalog.offersOf(types, query, settings, pricing))
                .defaultIfEmpty(List.of());
    }

    @Override
    public Mono<LaunchOutcome> launch(LaunchRequest request) {
        Optional<ShadeformCatalog.OfferId> offer = ShadeformCatalog.OfferId.parse(request.offerId());
        if (offer.isEmpty()) {
            return Mono.just(new LaunchOutcome.LaunchFailed(new ProviderFault.ProvisioningFailed(
                    "offer " + request.offerId() + " is not a shadeform offer id (<cloud>:<shade_instance_type>:<region>)")));
        }
        // No idempotency key at Shadeform: the instance is named after the job, and a retried launch finds it.
        return instancesNamed(request.jobId()).hasElements().flatMap(exists -> exists
                ? Mono.<LaunchOutcome>just(new LaunchOutcome.Launched(request.jobId()))
                : create(request, offer.get()));
    }

    private Mono<LaunchOutcome> create(LaunchRequest request, ShadeformCatalog.OfferId offer) {
        return sshKeyId.flatMap(keyId -> creates.sendOnce(HttpMethod.POST, "/instances/create",
                        ShadeformWire.JSON.valueToTree(body(request, offer, keyId))))
                .map(json -> read(json, ShadeformWire.CreateResponse.class))
                .<LaunchOutcome>map(created -> new LaunchOutcome.Launched(request.jobId()))
                .switchIfEmpty(Mono.error(() -> new ProviderUnavailableException(new ProviderFault.ProvisioningFailed(
                        "shadeform answered 404 to /instances/create"))))
                .onErrorResume(ProviderUnavailableException.class, failed -> failed.providerFault() instanceof ProviderFault.Transient
                        // Whether it landed is unknown: the caller tries again, and the name finds a first try.
                        ? Mono.error(failed)
                        : Mono.just(new LaunchOutcome.LaunchFailed(failed.providerFault())));
    }

    ShadeformWire.CreateRequest body(LaunchRequest request, ShadeformCatalog.OfferId offer, String sshKeyId) {
        Map<String, String> environment = new TreeMap<>(request.environment());
        environment.put("GPUBROKER_JOB_ID", request.jobId());
        List<ShadeformWire.Env> envs = environment.entrySet().stream()
                .map(entry -> new ShadeformWire.Env(entry.getKey(), entry.getValue()))
                .toList();
        String image = request.image() == null || request.image().isBlank() ? settings.defaultImage() : request.image();
        Instant deleteAfter = clock.instant().plus(settings.readyTimeout()).plus(request.maxDuration());
        return new ShadeformWire.CreateRequest(offer.cloud(), offer.region(), offer.shadeInstanceType(), true,
                request.jobId(), sshKeyId,
                new ShadeformWire.LaunchConfiguration("docker", new ShadeformWire.DockerConfiguration(image,
                        ShellWords.join(ReadinessProbe.wrap(request.command())), envs)),
                new ShadeformWire.AutoDelete(DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(
                        deleteAfter.atOffset(ZoneOffset.UTC))),
                List.of(JOB_TAG, LIMIT_TAG_PREFIX + request.maxDuration().toSeconds()));
    }

    @Override
    public Mono<JobStatus> status(String jobId) {
        return instancesNamed(jobId).next()
                .flatMap(listed -> api.get("/instances/" + listed.id() + "/info")
                        .map(json -> read(json, ShadeformWire.Instance.class)))
                .flatMap(this::statusOf)
                .switchIfEmpty(Mono.fromSupplier(() -> new JobStatus.Ended(null, new JobSignal.Lost(clock.instant(),
                        "shadeform has no instance named " + jobId + " (never created, or deleted)"))));
    }

    private Mono<JobStatus> statusOf(ShadeformWire.Instance instance) {
        Instant now = clock.instant();
        Instant activeAt = instantOf(instance.activeAt());
        Optional<Duration> limit = limitOf(instance);
        String state = instance.status() == null ? "" : instance.status();
        String details = instance.statusDetails() == null || instance.statusDetails().isBlank() ? ""
                : " (" + instance.statusDetails() + ")";
        return switch (state) {
            case "creating", "pending_provider", "pending" -> {
                Instant createdAt = instantOf(instance.createdAt());
                if (createdAt != null && now.isAfter(createdAt.plus(settings.readyTimeout()))) {
                    yield delete(instance).thenReturn(new JobStatus.Ended(null, new JobSignal.Lost(now,
                            "shadeform's instance was not active within " + settings.readyTimeout() + " (still "
                                    + state + details + "); deleted, never billed")));
                }
                yield Mono.just(new JobStatus.Starting());
            }
            case "active" -> watch(instance, activeAt == null ? now : activeAt, limit, now);
            case "error" -> delete(instance).thenReturn(new JobStatus.Ended(null, new JobSignal.Lost(now,
                    "shadeform reports the instance in error" + details
                            + (activeAt == null ? ": it never became active" : ": taken away while running"))));
            // Billed, if the job had started, from the start the engine recorded when it saw the job run (the VM is
            // gone, so its container's stamps cannot be read again).
            case "deleting", "deleted" -> {
                shell.forget(instance.id());
                Optional<JobSignal.Exited> exited = exitOf(instance);
                if (exited.isPresent()) {
                    yield Mono.just(new JobStatus.Ended(null, exited.get()));
                }
                Instant deletedAt = Optional.ofNullable(instantOf(instance.deletedAt())).orElse(now);
                if (activeAt != null && limit.isPresent() && !deletedAt.isBefore(activeAt.plus(limit.get()).minus(CLOCK_SKEW_MAX))) {
                    yield Mono.just(new JobStatus.Ended(null, new JobSignal.Exited(deletedAt, EXIT_TIMED_OUT, true)));
                }
                yield Mono.just(new JobStatus.Ended(null, new JobSignal.Terminated(deletedAt)));
            }
            // A status the document does not list: still coming up, as far as the broker can tell; the ready
            // timeout bounds the wait.
            default -> Mono.just(new JobStatus.Starting());
        };
    }

    /** An active VM: what its job's container does, read over SSH. */
    private Mono<JobStatus> watch(ShadeformWire.Instance instance, Instant activeAt, Optional<Duration> limit, Instant now) {
        Optional<VmShell.Address> at = addressOf(instance);
        if (at.isEmpty()) {
            return unwatchable(instance, activeAt, limit, now, "shadeform shows no IP address or SSH port for it yet", true);
        }
        return shell.run(at.get(), ShadeformContainer.observeCommand(), OBSERVATION_MAX_BYTES)
                .map(answer -> {
                    if (answer.exitStatus() != 0) {
                        throw new VmShell.VmShellException("docker on the VM answered exit status " + answer.exitStatus(),
                                false, null);
                    }
                    return ShadeformContainer.read(answer.output());
                })
                .flatMap(observation -> judge(instance, observation, activeAt, limit, now))
                .onErrorResume(VmShell.VmShellException.class, failed ->
                        unwatchable(instance, activeAt, limit, now, failed.getMessage(), failed.unreachable()))
                .onErrorResume(IllegalArgumentException.class, unreadable ->
                        unwatchable(instance, activeAt, limit, now, unreadable.getMessage(), false));
    }

    private Mono<JobStatus> judge(ShadeformWire.Instance instance, ShadeformContainer.Observation observation,
            Instant activeAt, Optional<Duration> limit, Instant now) {
        boolean late = now.isAfter(activeAt.plus(settings.readyTimeout()));
        if (observation.state().isEmpty()) {
            // Shadeform still pulls the image: not billed.
            return late ? lost(instance, now, "no container ran on the VM within " + settings.readyTimeout()
                    + " of it becoming active (the image could not be pulled or started)") : Mono.just(new JobStatus.Starting());
        }
        ShadeformContainer.State container = observation.state().get();
        Optional<ReadinessProbe.Result> probe = promisedGpu(instance)
                .flatMap(gpu -> ReadinessProbe.read(observation.texts(), gpu, promisedCount(instance)));
        if (probe.isPresent() && !probe.get().passed()) {
            return lost(instance, now, "not the GPU promised: " + probe.get().reason());
        }
        if (probe.isEmpty()) {
            if (container.finished()) {
                return lost(instance, now, "the container exited with code " + container.exitCode() + " before the "
                        + "readiness probe ran (does its image's entrypoint run the command it is given?)");
            }
            return late ? lost(instance, now, "the readiness probe's line did not appear within " + settings.readyTimeout()
                    + " of the VM becoming active") : Mono.just(new JobStatus.Starting());
        }
        Instant startedAt = observation.firstLineAt(ReadinessProbe.PREFIX).orElse(container.startedAt());
        String readiness = probe.get().reason();
        if (container.finished()) {
            Instant finishedAt = container.finishedAt().orElse(now);
            return recordExit(instance, finishedAt, container.exitCode(), now)
                    .then(Mono.fromRunnable(() -> deleteAfterRetention(instance)))
                    .thenReturn(new JobStatus.Ended(startedAt, new JobSignal.Exited(finishedAt, container.exitCode(), false),
                            readiness));
        }
        if (limit.isPresent() && !now.isBefore(startedAt.plus(limit.get()))) {
            return delete(instance).thenReturn(new JobStatus.Ended(startedAt,
                    new JobSignal.Exited(startedAt.plus(limit.get()), EXIT_TIMED_OUT, true), readiness));
        }
        return Mono.just(new JobStatus.Running(startedAt, readiness));
    }

    /**
     * The VM is active but its container cannot be read: a VM still booting is starting; one that stays unreadable
     * is a transient fault while its job may still run, and is deleted (never billed) once even a job that started at
     * once would be past its limit.
     */
    private Mono<JobStatus> unwatchable(ShadeformWire.Instance instance, Instant activeAt, Optional<Duration> limit,
            Instant now, String why, boolean unreachable) {
        Instant giveUpAt = activeAt.plus(settings.readyTimeout()).plus(limit.orElse(Duration.ZERO));
        if (now.isAfter(giveUpAt)) {
            return lost(instance, now, "the broker could not watch the job's container over SSH: " + why);
        }
        if (unreachable && !now.isAfter(activeAt.plus(settings.readyTimeout()))) {
            return Mono.just(new JobStatus.Starting());
        }
        return Mono.error(new ProviderUnavailableException(new ProviderFault.Transient(
                "shadeform instance " + instance.id() + ": the broker cannot watch the job's container over SSH: " + why)));
    }

    /** Lost to the broker, never billed: the VM is deleted so that nothing runs on the operator's account. */
    private Mono<JobStatus> lost(ShadeformWire.Instance instance, Instant now, String reason) {
        return delete(instance).thenReturn(new JobStatus.Ended(null, new JobSignal.Lost(now, reason + "; deleted, never billed")));
    }

    /**
     * Writes the container's exit into the instance's tags, and brings Shadeform's own auto-delete forward to the end of
     * the retention (should no broker be left to delete it). Once written it is not written again. A failure is logged
     * and does not hold up the job's end: the broker still deletes the VM itself.
     */
    private Mono<Void> recordExit(ShadeformWire.Instance instance, Instant finishedAt, int exitCode, Instant now) {
        if (exitOf(instance).isPresent()) {
            return Mono.empty();
        }
        List<String> tags = new ArrayList<>(instance.tags() == null ? List.of() : instance.tags());
        tags.add(EXIT_TAG_PREFIX + finishedAt.toEpochMilli() + "-" + exitCode);
        ShadeformWire.AutoDelete deleteAt = new ShadeformWire.AutoDelete(DateTimeFormatter.ISO_OFFSET_DATE_TIME.format(
                now.plus(settings.logRetention()).atOffset(ZoneOffset.UTC)));
        return api.stopSpending(HttpMethod.POST, "/instances/" + instance.id() + "/update",
                        ShadeformWire.JSON.valueToTree(new ShadeformWire.UpdateRequest(tags, deleteAt)))
                .onErrorResume(failed -> {
                    log.warn("Provider shadeform: recording the exit of job {} on instance {} failed (its VM is still "
                            + "deleted after the retention): {}", instance.name(), instance.id(), failed.toString());
                    return Mono.empty();
                });
    }

    /** The container's exit as a broker recorded it in the instance's tags. */
    private static Optional<JobSignal.Exited> exitOf(ShadeformWire.Instance instance) {
        if (instance.tags() == null) {
            return Optional.empty();
        }
        for (String tag : instance.tags()) {
            if (tag == null || !tag.startsWith(EXIT_TAG_PREFIX)) {
                continue;
            }
            String[] fields = tag.substring(EXIT_TAG_PREFIX.length()).split("-", 2);
            try {
                return Optional.of(new JobSignal.Exited(Instant.ofEpochMilli(Long.parseLong(fields[0])),
                        Integer.parseInt(fields[1]), false));
            } catch (RuntimeException notOurs) {
                // A tag someone else wrote in our prefix: not evidence of an exit.
            }
        }
        return Optional.empty();
    }

    /**
     * The container has exited: its VM is deleted after {@code logRetention}, so that the agent can still read the
     * output (the VM's Docker holds it); Shadeform's auto-delete is the backstop should this broker stop before.
     */
    private void deleteAfterRetention(ShadeformWire.Instance instance) {
        if (!deletionsDue.add(instance.id())) {
            return;
        }
        Mono.delay(settings.logRetention())
                .then(Mono.defer(() -> delete(instance)))
                .doFinally(signal -> {
                    deletionsDue.remove(instance.id());
                    shell.forget(instance.id());
                })
                .subscribe(null, failed -> log.warn("Provider shadeform: deleting instance {} of job {} after its job "
                        + "ended failed (Shadeform's auto-delete is the backstop): {}", instance.id(), instance.name(),
                        failed.toString()));
    }

    private static Optional<VmShell.Address> addressOf(ShadeformWire.Instance instance) {
        if (instance.ip() == null || instance.ip().isBlank() || instance.sshPort() == null || instance.sshPort() <= 0) {
            return Optional.empty();
        }
        String user = instance.sshUser() == null || instance.sshUser().isBlank() ? "shadeform" : instance.sshUser();
        return Optional.of(new VmShell.Address(instance.id(), instance.ip().strip(), instance.sshPort(), user));
    }

    private static Optional<String> promisedGpu(ShadeformWire.Instance instance) {
        ShadeformWire.Configuration configuration = instance.configuration();
        if (configuration == null || configuration.gpuType() == null || configuration.vramPerGpuInGb() == null) {
            return Optional.empty();
        }
        return ShadeformCatalog.modelOf(configuration.gpuType(), configuration.vramPerGpuInGb());
    }

    private static int promisedCount(ShadeformWire.Instance instance) {
        ShadeformWire.Configuration configuration = instance.configuration();
        return configuration == null || configuration.numGpus() == null ? 1 : configuration.numGpus();
    }

    /** The container's output, read on its VM (Docker keeps it there): {@code cursor} is the number of lines read. */
    @Override
    public Mono<LogPage> logs(String jobId, String cursor, int limit) {
        OptionalLong parsed = lineCursor(cursor);
        if (parsed.isEmpty()) {
            // Not a cursor this provider gave (job_logs' schema lets up to 20 digits through): no lines are past it.
            return Mono.just(new LogPage(List.of(), cursor));
        }
        long from = parsed.getAsLong();
        int count = Math.min(Math.max(limit, 1), LOG_PAGE_MAX_LINES);
        return instancesNamed(jobId).next()
                .flatMap(listed -> api.get("/instances/" + listed.id() + "/info")
                        .map(json -> read(json, ShadeformWire.Instance.class)))
                .filter(instance -> "active".equals(instance.status()))
                .flatMap(instance -> Mono.justOrEmpty(addressOf(instance)))
                .flatMap(at -> shell.run(at, ShadeformContainer.logsCommand(from, count, LOG_PAGE_MAX_BYTES),
                                LOG_PAGE_MAX_BYTES)
                        .onErrorMap(VmShell.VmShellException.class, failed -> new ProviderUnavailableException(
                                new ProviderFault.Transient("shadeform: the job's output cannot be read over SSH: "
                                        + failed.getMessage()))))
                .map(answer -> {
                    List<String> lines = answer.output().lines().limit(count).toList();
                    boolean cut = answer.output().getBytes(java.nio.charset.StandardCharsets.UTF_8).length >= LOG_PAGE_MAX_BYTES;
                    if (cut && lines.size() > 1) {
                        // The page's last line was cut at the byte bound: it is read whole on the next page.
                        lines = lines.subList(0, lines.size() - 1);
                    }
                    return new LogPage(lines, String.valueOf(from + lines.size()));
                })
                .defaultIfEmpty(new LogPage(List.of(), cursor));
    }

    /** The line count a cursor names; empty for one that is not a line count. */
    private static OptionalLong lineCursor(String cursor) {
        if (cursor == null || cursor.isBlank()) {
            return OptionalLong.of(0);
        }
        try {
            long from = Long.parseLong(cursor.strip());
            return from >= 0 ? OptionalLong.of(from) : OptionalLong.empty();
        } catch (NumberFormatException notOurs) {
            return OptionalLong.empty();
        }
    }

    @Override
    public Mono<Void> terminate(String jobId) {
        return instancesNamed(jobId).concatMap(this::delete).then();
    }

    /** {@code POST /instances/{id}/delete}: billing stops at "deleting"; one already deleting or gone is left alone. */
    private Mono<Void> delete(ShadeformWire.Instance instance) {
        if ("deleting".equals(instance.status()) || "deleted".equals(instance.status())) {
            return Mono.empty();
        }
        return api.stopSpending(HttpMethod.POST, "/instances/" + instance.id() + "/delete", null)
                .doOnSuccess(deleted -> shell.forget(instance.id()));
    }

    /** The account's instances (not deleted) named after this job, oldest first. */
    private Flux<ShadeformWire.Instance> instancesNamed(String jobId) {
        return api.get("/instances")
                .map(json -> read(json, ShadeformWire.Instances.class))
                .flatMapIterable(answer -> {
                    List<ShadeformWire.Instance> named = new ArrayList<>();
                    for (ShadeformWire.Instance instance : answer.instances() == null
                            ? List.<ShadeformWire.Instance>of() : answer.instances()) {
                        if (jobId.equals(instance.name()) && instance.id() != null) {
                            named.add(instance);
                        }
                    }
                    named.sort(Comparator.comparing(instance -> String.valueOf(instance.createdAt())));
                    return named;
                });
    }

    private static Optional<Duration> limitOf(ShadeformWire.Instance instance) {
        if (instance.tags() == null) {
            return Optional.empty();
        }
        return instance.tags().stream()
                .filter(tag -> tag != null && tag.startsWith(LIMIT_TAG_PREFIX))
                .findFirst()
                .flatMap(tag -> {
                    try {
                        return Optional.of(Duration.ofSeconds(Long.parseLong(tag.substring(LIMIT_TAG_PREFIX.length()))));
                    } catch (NumberFormatException notOurs) {
                        return Optional.empty();
                    }
                });
    }

    private static Instant instantOf(String text) {
        if (text == null || text.isBlank()) {
            return null;
        }
        try {
            return OffsetDateTime.parse(text.strip(), DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
        } catch (DateTimeParseException notOffset) {
            throw new ProviderUnavailableException(new ProviderFault.Transient("shadeform answered a time that is not "
                    + "RFC 3339: " + text));
        }
    }

    private static <T> T read(JsonNode json, Class<T> type) {
        try {
            return ShadeformWire.JSON.treeToValue(json, type);
        } catch (RuntimeException unreadable) {
            throw new ProviderUnavailableException(new ProviderFault.Transient("shadeform answered a " + type.getSimpleName()
                    + " the broker cannot read: " + unreadable.getClass().getSimpleName()));
        }
    }
}
