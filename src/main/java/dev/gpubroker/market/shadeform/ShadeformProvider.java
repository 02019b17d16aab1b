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
import java.util.TreeMap;

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
 * Shadeform's API reports the VM's status only: not the container's, and not its output. So a job is
 * {@link JobStatus.Running} (billed) from the VM's {@code active_at}, its readiness probe cannot be read, its logs are
 * empty pages, and its end is the agent's cancel or its time limit (the broker deletes the instance then; Shadeform's
 * own auto-delete is the backstop). See docs/providers/shadeform.md.
 */
final class ShadeformProvider implements ComputeProvider {

    static final String NAME = "shadeform";

    /** What {@code job_status} shows as the probe's result: nothing could be verified. */
    static final String READINESS_UNVERIFIED = "not verified: Shadeform reports the VM active but surfaces neither the "
            + "container's status nor its output, so the readiness probe cannot be read; billed from the VM's active_at";

    /** The tag that carries the job's time limit, so that any broker instance can enforce it. */
    static final String LIMIT_TAG_PREFIX = "gpubroker-max-seconds-";
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

    ShadeformProvider(ShadeformSettings settings, RemoteApi api, RemoteApi creates, ProviderPricing pricing, Clock clock) {
        this.settings = settings;
        this.api = api;
        this.creates = creates;
        this.pricing = pricing;
        this.clock = clock;
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
        return creates.sendOnce(HttpMethod.POST, "/instances/create", ShadeformWire.JSON.valueToTree(body(request, offer)))
                .map(json -> read(json, ShadeformWire.CreateResponse.class))
                .<LaunchOutcome>map(created -> new LaunchOutcome.Launched(request.jobId()))
                .switchIfEmpty(Mono.error(() -> new ProviderUnavailableException(new ProviderFault.ProvisioningFailed(
                        "shadeform answered 404 to /instances/create"))))
                .onErrorResume(ProviderUnavailableException.class, failed -> failed.providerFault() instanceof ProviderFault.Transient
                        // Whether it landed is unknown: the caller tries again, and the name finds a first try.
                        ? Mono.error(failed)
                        : Mono.just(new LaunchOutcome.LaunchFailed(failed.providerFault())));
    }

    ShadeformWire.CreateRequest body(LaunchRequest request, ShadeformCatalog.OfferId offer) {
        Map<String, String> environment = new TreeMap<>(request.environment());
        environment.put("GPUBROKER_JOB_ID", request.jobId());
        List<ShadeformWire.Env> envs = environment.entrySet().stream()
                .map(entry -> new ShadeformWire.Env(entry.getKey(), entry.getValue()))
                .toList();
        String image = request.image() == null || request.image().isBlank() ? settings.defaultImage() : request.image();
        Instant deleteAfter = clock.instant().plus(settings.readyTimeout()).plus(request.maxDuration());
        return new ShadeformWire.CreateRequest(offer.cloud(), offer.region(), offer.shadeInstanceType(), true,
                request.jobId(),
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
            case "active" -> {
                Instant startedAt = activeAt == null ? now : activeAt;
                if (limit.isPresent() && !now.isBefore(startedAt.plus(limit.get()))) {
                    yield delete(instance).thenReturn(new JobStatus.Ended(startedAt,
                            new JobSignal.Exited(startedAt.plus(limit.get()), EXIT_TIMED_OUT, true)));
                }
                yield Mono.just(new JobStatus.Running(startedAt, READINESS_UNVERIFIED));
            }
            case "error" -> delete(instance).thenReturn(new JobStatus.Ended(activeAt, new JobSignal.Lost(now,
                    "shadeform reports the instance in error" + details
                            + (activeAt == null ? ": it never became active" : ": taken away while running"))));
            case "deleting", "deleted" -> {
                Instant deletedAt = Optional.ofNullable(instantOf(instance.deletedAt())).orElse(now);
                if (activeAt != null && limit.isPresent() && !deletedAt.isBefore(activeAt.plus(limit.get()).minus(CLOCK_SKEW_MAX))) {
                    yield Mono.just(new JobStatus.Ended(activeAt,
                            new JobSignal.Exited(activeAt.plus(limit.get()), EXIT_TIMED_OUT, true)));
                }
                yield Mono.just(new JobStatus.Ended(activeAt, new JobSignal.Terminated(deletedAt)));
            }
            // A status the document does not list: still coming up, as far as the broker can tell; the ready
            // timeout bounds the wait.
            default -> Mono.just(new JobStatus.Starting());
        };
    }

    /**
     * Shadeform's API has no endpoint for an instance's or a container's output (its docs say to SSH into the VM and
     * run {@code docker logs}), so a job's logs are an empty page. Said in docs/providers/shadeform.md.
     */
    @Override
    public Mono<LogPage> logs(String jobId, String cursor, int limit) {
        return Mono.just(new LogPage(List.of(), null));
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
        return api.stopSpending(HttpMethod.POST, "/instances/" + instance.id() + "/delete", null);
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
