package dev.gpubroker.market.vastai;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.springframework.http.HttpMethod;
import org.springframework.web.reactive.function.client.WebClient;
import org.springframework.web.reactive.function.client.WebClientResponseException;

import dev.gpubroker.market.CapacityHolds;
import dev.gpubroker.market.ComputeProvider;
import dev.gpubroker.market.GpuModels;
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
import reactor.util.retry.Retry;
import tools.jackson.databind.JsonNode;

/**
 * Vast.ai as a seller (docs/providers/vastai.md): each host machine's offer is sold on demand ({@code <ask_id>}) and,
 * cheaper and less reliable, as an interruptible bid ({@code <ask_id>:bid}). Nothing is kept in memory: a job is found
 * again by its instance's label (the job id), its start and end by the lines its container prints.
 */
final class VastaiProvider implements ComputeProvider {

    /** The status of a job whose container ended without reporting one (killed, as by SIGKILL). */
    static final int KILLED_EXIT_CODE = 137;

    static final String NAME = "vastai";
    static final String BID_SUFFIX = ":bid";
    static final int OFFERS_MAX = 200;

    private static final Logger log = LoggerFactory.getLogger(VastaiProvider.class);
    private static final Pattern ENVIRONMENT_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");
    private static final Pattern OFFER_ID = Pattern.compile("(\\d{1,18})(" + Pattern.quote(BID_SUFFIX) + ")?");
    private static final int LOG_FETCH_TRIES = 10;
    private static final Duration LOG_FETCH_WAIT = Duration.ofMillis(300);
    private static final Duration OVERRUN_GRACE = Duration.ofMinutes(1);
    /** Vast's names of the GPUs GPU Broker sells, as offers spell them (the CLI turns {@code RTX_4090} into these). */
    private static final Map<String, List<String>> VAST_NAMES = Map.of(
            "B200", List.of("B200"),
            "H200", List.of("H200", "H200 NVL"),
            "H100", List.of("H100 SXM", "H100 PCIE", "H100 NVL"),
            "A100-80GB", List.of("A100 SXM4", "A100 PCIE"),
            "A100-40GB", List.of("A100 SXM4", "A100 PCIE"),
            "L40S", List.of("L40S"),
            "RTX4090", List.of("RTX 4090"));

    private final VastaiProperties settings;
    private final RemoteApi api;
    private final WebClient logDownloads;
    private final ProviderPricing pricing;
    private final URI baseUri;
    private final Clock clock;
    private final RecheckedOffers holds = new RecheckedOffers(this);

    /** {@code logDownloads}: a client without the key, for the log files Vast uploads ({@code result_url}). */
    VastaiProvider(VastaiProperties settings, RemoteApi api, WebClient logDownloads, ProviderPricing pricing, Clock clock) {
        this.settings = settings;
        this.api = api;
        this.logDownloads = logDownloads;
        this.pricing = pricing;
        this.baseUri = URI.create(settings.baseUrl());
        this.clock = clock;
    }

    @Override
    public String name() {
        return NAME;
    }

    /** Its search answers are served from the broker's offer cache this long (Vast limits calls per endpoint). */
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

    // ---- offers -------------------------------------------------------------------------------------------------

    @Override
    public Mono<List<Offer>> offers(OfferQuery query) {
        List<String> names = GpuModels.ANY.equals(query.gpu())
                ? VAST_NAMES.values().stream().flatMap(List::stream).distinct().sorted().toList()
                : VAST_NAMES.get(query.gpu());
        VastaiWire.SearchOffers search = new VastaiWire.SearchOffers(eq(true), eq(false), eq(true), eq(false),
                eq(query.gpuCount()), Map.of("in", names),
                query.minReliability().<Map<String, Object>>map(min -> Map.of("gte", min)).orElse(null), null,
                List.of(List.of("dph_total", "asc")), "on-demand", OFFERS_MAX, settings.diskGb());
        return search(search).map(rows -> {
            List<Offer> offers = new ArrayList<>();
            for (JsonNode row : rows) {
                VastaiReading.offer(row).ifPresent(host -> {
                    offers.add(onDemand(host));
                    bid(host).ifPresent(offers::add);
                });
            }
            return offers.stream().filter(query::accepts).limit(OFFERS_MAX).toList();
        });
    }

    private Mono<JsonNode> search(VastaiWire.SearchOffers search) {
        // RemoteApi reads a 404 as "nothing there"; Vast answers 404 "Invalid user key" to a search with a bad key.
        return api.sendSafely(HttpMethod.POST, "/bundles/", search)
                .switchIfEmpty(Mono.error(() -> new ProviderUnavailableException(new ProviderFault.QuotaOrAuth(NAME
                        + " answered HTTP 404 to the offer search, as it does for an API key it does not know"))))
                .map(answer -> answer.path("offers"));
    }

    private Offer onDemand(VastaiReading.HostOffer host) {
        return new Offer(NAME, Long.toString(host.askId()), host.gpu(), host.vramGb(), host.region(),
                pricing.sellingPrice(perGpu(host.machineUsdPerHour(), host.gpuCount())), host.gpuCount(),
                host.reliability());
    }

    /** The same machine as an interruptible bid: our bid plus storage, with the capped reliability of a bid. */
    private Optional<Offer> bid(VastaiReading.HostOffer host) {
        if (!settings.interruptible()) {
            return Optional.empty();
        }
        return host.minBidUsdPerHour().map(minBid -> new Offer(NAME, host.askId() + BID_SUFFIX, host.gpu(),
                host.vramGb(), host.region(),
                pricing.sellingPrice(perGpu(bidPrice(minBid).add(host.storageUsdPerHour()), host.gpuCount())),
                host.gpuCount(), Math.min(host.reliability(), settings.interruptibleReliabilityMax())));
    }

    private BigDecimal bidPrice(BigDecimal minBidUsdPerHour) {
        return minBidUsdPerHour.multiply(BigDecimal.ONE.add(settings.bidOverMinBidPercent().movePointLeft(2)))
                .setScale(4, RoundingMode.CEILING).max(new BigDecimal("0.001"));
    }

    private static BigDecimal perGpu(BigDecimal machineUsdPerHour, int gpuCount) {
        return machineUsdPerHour.divide(BigDecimal.valueOf(gpuCount), 8, RoundingMode.CEILING);
    }

    private static Map<String, Object> eq(Object value) {
        return Map.of("eq", value);
    }

    // ---- launch -------------------------------------------------------------------------------------------------

    @Override
    public Mono<LaunchOutcome> launch(LaunchRequest request) {
        return Mono.defer(() -> {
            var offerId = request.offerId() == null ? null : OFFER_ID.matcher(request.offerId());
            if (offerId == null || !offerId.matches()) {
                return Mono.just(failed(new ProviderFault.ProvisioningFailed("offer " + request.offerId()
                        + " is not a Vast.ai offer id (<ask_id> or <ask_id>" + BID_SUFFIX + ")")));
            }
            Optional<String> badName = request.environment().keySet().stream()
                    .filter(name -> !ENVIRONMENT_NAME.matcher(name).matches()).findFirst();
            if (badName.isPresent()) {
                // Vast reads env keys such as "-p 22:22" as docker flags: only plain variable names pass.
                return Mono.just(failed(new ProviderFault.ProvisioningFailed("environment variable name '"
                        + badName.get() + "' is not a plain name ([A-Za-z_][A-Za-z0-9_]*)")));
            }
            long askId = Long.parseLong(offerId.group(1));
            boolean bid = offerId.group(2) != null;
            return instanceOf(request.jobId())
                    .map(existing -> (LaunchOutcome) new LaunchOutcome.Launched(request.jobId()))
                    .switchIfEmpty(Mono.defer(() -> (bid ? currentBid(askId) : Mono.just(Optional.<Double>empty()))
                            .flatMap(price -> create(request, askId, price))))
                    .onErrorResume(ProviderUnavailableException.class, refused -> Mono.just(failed(refused.providerFault())));
        });
    }

    /** The bid for an interruptible launch: the host's current minimum bid, plus our margin. */
    private Mono<Optional<Double>> currentBid(long askId) {
        VastaiWire.SearchOffers search = new VastaiWire.SearchOffers(null, null, eq(true), null, null, null, null,
                eq(askId), null, "bid", 1, settings.diskGb());
        return search(search).flatMap(rows -> {
            for (JsonNode row : rows) {
                double minBid = row.path("min_bid").asDouble(0);
                if (row.path("id").asLong() == askId && minBid > 0) {
                    return Mono.just(Optional.of(bidPrice(BigDecimal.valueOf(minBid)).doubleValue()));
                }
            }
            return Mono.error(new ProviderUnavailableException(new ProviderFault.NoCapacity(NAME + " offer " + askId
                    + " is no longer listed for interruptible rent")));
        });
    }

    private Mono<LaunchOutcome> create(LaunchRequest request, long askId, Optional<Double> bidPrice) {
        Map<String, String> environment = new HashMap<>(request.environment());
        environment.put("GPUBROKER_JOB_ID", request.jobId());
        environment.put(VastaiJobScript.MAX_SECONDS_VARIABLE, Long.toString(request.maxDuration().toSeconds()));
        String image = request.image() == null || request.image().isBlank() ? settings.defaultImage() : request.image();
        VastaiWire.CreateInstance body = new VastaiWire.CreateInstance("me", image, Map.copyOf(environment),
                bidPrice.orElse(null), settings.diskGb(), request.jobId(), "args",
                VastaiJobScript.argv(request.command()), true);
        return api.sendOnce(HttpMethod.PUT, "/asks/" + askId + "/", body)
                .map(answer -> {
                    if (answer.path("success").asBoolean(false) && answer.path("new_contract").asLong(0) > 0) {
                        log.info("Vast.ai instance {} created for job {} from offer {}{}",
                                answer.path("new_contract").asLong(), request.jobId(), askId,
                                bidPrice.map(price -> " at a bid of " + price + " USD/hour").orElse(""));
                        return (LaunchOutcome) new LaunchOutcome.Launched(request.jobId());
                    }
                    return failed(VastaiErrors.refusal(answer.path("msg").asString(answer.toString())));
                })
                .defaultIfEmpty(failed(new ProviderFault.NoCapacity(NAME + " offer " + askId + " is not available (404)")));
    }

    private static LaunchOutcome failed(ProviderFault fault) {
        return new LaunchOutcome.LaunchFailed(fault);
    }

    // ---- status -------------------------------------------------------------------------------------------------

    @Override
    public Mono<JobStatus> status(String jobId) {
        return instanceOf(jobId)
                .flatMap(this::statusOf)
                .defaultIfEmpty(new JobStatus.Ended(null, new JobSignal.Lost(clock.instant(),
                        NAME + " has no instance labelled " + jobId)));
    }

    private Mono<JobStatus> statusOf(VastaiReading.Instance instance) {
        Instant now = clock.instant();
        if (instance.hostLost()) {
            return Mono.just(new JobStatus.Ended(null, new JobSignal.Lost(now, NAME + " lost the host of instance "
                    + instance.id() + " (offline)" + said(instance))));
        }
        if (!instance.running() && !instance.stopped()) {
            boolean late = instance.createdAt().map(created -> created.plus(settings.readyWithin()).isBefore(now))
                    .orElse(false);
            if (late) {
                return destroy(instance).thenReturn(new JobStatus.Ended(null, new JobSignal.Lost(now, NAME
                        + " instance " + instance.id() + " was not running within " + settings.readyWithin().toMinutes()
                        + " minutes (" + describe(instance) + ")")));
            }
            return Mono.just(new JobStatus.Starting());
        }
        return output(instance).flatMap(lines -> judge(instance, lines, now));
    }

    private Mono<JobStatus> judge(VastaiReading.Instance instance, List<String> lines, Instant now) {
        Optional<ReadinessProbe.Result> probe = instance.promisedGpu()
                .flatMap(gpu -> ReadinessProbe.read(lines, gpu, instance.promisedCount()));
        if (probe.isPresent() && !probe.get().passed()) {
            return destroy(instance).thenReturn(new JobStatus.Ended(null, new JobSignal.Lost(now,
                    "not the GPU promised: " + probe.get().reason())));
        }
        Optional<Instant> startedAt = probe.isPresent()
                ? Optional.of(VastaiJobScript.startedAt(lines).orElse(now)) : Optional.empty();
        if (instance.stopped()) {
            Optional<VastaiJobScript.Exit> exit = VastaiJobScript.exit(lines);
            if (exit.isPresent() && startedAt.isPresent()) {
                int code = exit.get().code();
                return Mono.just(new JobStatus.Ended(startedAt.get(),
                        new JobSignal.Exited(exit.get().at().orElse(now), code, code == 124), probe.get().reason()));
            }
            if (startedAt.isPresent() && !instance.bid()) {
                // An on-demand container that stopped without its exit line ended itself (its job killed the shell
                // that reports, or ran out of memory): it ran on the GPU and is billed to when the broker saw it
                // stopped, never free as a lost one would be. A host that went away is answered above (offline).
                return Mono.just(new JobStatus.Ended(startedAt.get(), new JobSignal.Exited(now, KILLED_EXIT_CODE, false),
                        probe.get().reason()));
            }
            String why = instance.bid() ? "the interruptible instance " + instance.id() + " was stopped (outbid)"
                    : "instance " + instance.id() + " stopped before the job ended";
            return Mono.just(new JobStatus.Ended(startedAt.orElse(null), new JobSignal.Lost(now, NAME + ": " + why
                    + said(instance))));
        }
        if (startedAt.isEmpty()) {
            // Running, but the probe's line is not out yet: not billable.
            return Mono.just(new JobStatus.Starting());
        }
        Optional<Duration> limit = maxDuration(instance);
        if (limit.isPresent() && startedAt.get().plus(limit.get()).plus(OVERRUN_GRACE).isBefore(now)) {
            return destroy(instance).thenReturn(new JobStatus.Ended(startedAt.get(), new JobSignal.Exited(now, 124, true),
                    probe.get().reason()));
        }
        return Mono.just(new JobStatus.Running(startedAt.get(), probe.get().reason()));
    }

    private static Optional<Duration> maxDuration(VastaiReading.Instance instance) {
        try {
            return Optional.ofNullable(instance.environment().get(VastaiJobScript.MAX_SECONDS_VARIABLE))
                    .map(seconds -> Duration.ofSeconds(Long.parseLong(seconds.strip())));
        } catch (NumberFormatException notOurs) {
            return Optional.empty();
        }
    }

    private static String describe(VastaiReading.Instance instance) {
        return "actual_status " + (instance.actualStatus().isEmpty() ? "null" : instance.actualStatus()) + said(instance);
    }

    private static String said(VastaiReading.Instance instance) {
        String message = instance.statusMessage().strip();
        return message.isEmpty() ? "" : ": " + (message.length() > 200 ? message.substring(0, 200) + "…" : message);
    }

    // ---- logs ---------------------------------------------------------------------------------------------------

    @Override
    public Mono<LogPage> logs(String jobId, String cursor, int limit) {
        int from = cursor == null || cursor.isBlank() ? 0 : Integer.parseInt(cursor);
        int pageMax = Math.clamp(limit, 1, 1000);
        return instanceOf(jobId)
                .flatMap(this::output)
                .map(lines -> {
                    List<String> visible = lines.stream().filter(line -> !VastaiJobScript.isBrokerLine(line)).toList();
                    int start = Math.min(from, visible.size());
                    List<String> page = visible.subList(start, Math.min(visible.size(), start + pageMax));
                    return new LogPage(page, Integer.toString(start + page.size()));
                })
                .defaultIfEmpty(new LogPage(List.of(), null));
    }

    /** The container's newest output: Vast uploads it on request and answers where ({@code result_url}). */
    private Mono<List<String>> output(VastaiReading.Instance instance) {
        return api.sendSafely(HttpMethod.PUT, "/instances/request_logs/" + instance.id() + "/",
                        new VastaiWire.RequestLogs(Integer.toString(settings.logTailLines())))
                .flatMap(answer -> {
                    String url = answer.path("result_url").asString("");
                    if (url.isEmpty()) {
                        return Mono.just(List.<String>of());
                    }
                    return download(trusted(url));
                })
                .defaultIfEmpty(List.of());
    }

    /** Only from the API's own host or a documented log host, over HTTPS unless the API itself is plain HTTP. */
    private URI trusted(String url) {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException malformed) {
            throw new ProviderUnavailableException(NAME + " answered a log URL that is not a URL");
        }
        String host = uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT);
        boolean apiHost = host.equalsIgnoreCase(baseUri.getHost()) && uri.getScheme().equalsIgnoreCase(baseUri.getScheme());
        boolean logHost = "https".equalsIgnoreCase(uri.getScheme())
                && settings.logHosts().stream().anyMatch(host::equalsIgnoreCase);
        if (!apiHost && !logHost) {
            throw new ProviderUnavailableException(new ProviderFault.Transient(NAME + " answered a log URL on host '"
                    + host + "', which is neither the API's host nor one of gpubroker.providers.vastai.log-hosts "
                    + settings.logHosts() + ": not fetched"));
        }
        return uri;
    }

    /** Vast uploads the file a moment after it answers: 403/404 until then (the CLI waits the same way). */
    private Mono<List<String>> download(URI url) {
        return logDownloads.get().uri(url).retrieve().bodyToMono(String.class)
                .timeout(settings.callTimeout())
                .retryWhen(Retry.fixedDelay(LOG_FETCH_TRIES - 1, LOG_FETCH_WAIT).filter(error ->
                        error instanceof WebClientResponseException.NotFound
                                || error instanceof WebClientResponseException.Forbidden))
                .map(text -> text.lines().filter(line -> !line.isBlank()).toList())
                .onErrorResume(error -> error instanceof WebClientResponseException
                        || error instanceof java.util.concurrent.TimeoutException, error -> {
                    // Not uploaded yet, or gone: no lines now; the next poll asks again.
                    log.debug("Vast.ai log file not fetched: {}", error.toString());
                    return Mono.just(List.of());
                });
    }

    // ---- terminate ----------------------------------------------------------------------------------------------

    @Override
    public Mono<Void> terminate(String jobId) {
        return instances().filter(instance -> jobId.equals(instance.label())).concatMap(this::destroy).then();
    }

    private Mono<Void> destroy(VastaiReading.Instance instance) {
        return api.delete("/instances/" + instance.id() + "/");
    }

    /** The job's instance, found by its label; none: Vast never created it, or it was destroyed. */
    private Mono<VastaiReading.Instance> instanceOf(String jobId) {
        return instances().filter(instance -> jobId.equals(instance.label())).next();
    }

    private Flux<VastaiReading.Instance> instances() {
        return api.get("/instances/").flatMapIterable(answer -> {
            List<VastaiReading.Instance> rows = new ArrayList<>();
            for (JsonNode row : answer.path("instances")) {
                rows.add(VastaiReading.instance(row));
            }
            return rows;
        });
    }
}
