package dev.gpubroker.market.kubernetes;

import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gpubroker.market.CapacityHolds;
import dev.gpubroker.market.ComputeProvider;
import dev.gpubroker.market.JobStatus;
import dev.gpubroker.market.LaunchOutcome;
import dev.gpubroker.market.LaunchRequest;
import dev.gpubroker.market.LogPage;
import dev.gpubroker.market.Offer;
import dev.gpubroker.market.OfferQuery;
import dev.gpubroker.market.ProviderFault;
import dev.gpubroker.market.RecheckedOffers;
import dev.gpubroker.market.remote.ReadinessProbe;
import io.fabric8.kubernetes.api.model.DeletionPropagation;
import io.fabric8.kubernetes.api.model.ListOptionsBuilder;
import io.fabric8.kubernetes.api.model.Node;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodList;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientException;
import io.fabric8.kubernetes.client.dsl.Resource;
import reactor.core.publisher.Mono;
import reactor.core.scheduler.Schedulers;

/**
 * A Kubernetes cluster's GPU nodes as provider {@code kubernetes}: offers from the nodes' allocatable GPUs less what
 * running pods ask for, one batch/v1 Job per job, its pod's phase and log for status and logs. The fabric8 client
 * blocks, so every call runs on {@code boundedElastic}. Nothing that matters is kept here: any broker instance reads a
 * job's state from the cluster (the Job is named after the job id).
 */
final class KubernetesProvider implements ComputeProvider {

    static final String NAME = "kubernetes";

    private static final Logger log = LoggerFactory.getLogger(KubernetesProvider.class);
    private static final int POD_PAGE_SIZE = 500;
    private static final int POD_PAGES_MAX = 40;
    private static final int PROBE_LOG_BYTES_MAX = 64 * 1024;
    private static final int PROBE_LINES_MAX = 50;
    private static final int LOG_BYTES_MAX = 8 * 1024 * 1024;
    private static final int LOG_PAGE_MAX = 1000;

    private final KubernetesClient client;
    private final KubernetesProperties settings;
    private final ClusterPrices prices;
    private final Clock clock;
    private final RecheckedOffers holds = new RecheckedOffers(this);
    // What has been said once in the log (a GPU product without a model, a model without a price): logging only.
    private final Set<String> reported = ConcurrentHashMap.newKeySet();

    KubernetesProvider(KubernetesClient client, KubernetesProperties settings, Clock clock) {
        this.client = client;
        this.settings = settings;
        this.prices = ClusterPrices.from(settings.prices());
        this.clock = clock;
    }

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public CapacityHolds holds() {
        return holds;
    }

    /** Each refresh lists every node and pod of the cluster: many agents' quotes share one for this long. */
    @Override
    public java.time.Duration offerTtl() {
        return settings.offerTtl();
    }

    @Override
    public Mono<List<Offer>> offers(OfferQuery query) {
        return blocking("list the GPU nodes and their pods", () -> {
            List<Offer> offers = new ArrayList<>();
            for (GpuNodes.ModelCapacity capacity : capacities().values()) {
                Optional<dev.gpubroker.money.PricePerGpuHour> price = prices.of(capacity.model());
                if (price.isEmpty()) {
                    reportOnce("price:" + capacity.model(), "Provider kubernetes: the cluster has {} GPUs but"
                            + " gpubroker.providers.kubernetes.prices has no price for {}: they are not offered",
                            capacity.model());
                    continue;
                }
                offers.add(new Offer(NAME, capacity.model(), capacity.model(), capacity.vramGb(), settings.region(),
                        price.get(), capacity.freeOnOneNodeMax(), settings.reliability()));
            }
            return List.copyOf(offers);
        });
    }

    @Override
    public Mono<LaunchOutcome> launch(LaunchRequest request) {
        String name = JobManifests.jobName(request.jobId());
        return blocking("launch job " + request.jobId(), () -> {
            Job existing = job(name).get();
            if (existing != null) {
                return sameLaunch(request, existing);
            }
            String model = request.offerId();
            if (prices.of(model).isEmpty()) {
                return new LaunchOutcome.LaunchFailed(new ProviderFault.NoCapacity("the cluster does not offer "
                        + model + " (no price configured for it)"));
            }
            GpuNodes.ModelCapacity capacity = capacities().get(model);
            if (capacity == null || capacity.freeOnOneNodeMax() < request.gpuCount()) {
                return new LaunchOutcome.LaunchFailed(new ProviderFault.NoCapacity("no node of the cluster has "
                        + request.gpuCount() + " free " + model + " GPUs now (the roomiest has "
                        + (capacity == null ? 0 : capacity.freeOnOneNodeMax()) + ")"));
            }
            Job job = JobManifests.job(request, model, capacity.roomiestProduct(), new JobManifests.Placement(
                    settings.namespace(), settings.queue(), settings.defaultImage(), settings.finishedJobTtl().toSeconds()));
            try {
                client.batch().v1().jobs().inNamespace(settings.namespace()).resource(job).create();
                return new LaunchOutcome.Launched(request.jobId());
            } catch (KubernetesClientException refused) {
                if (refused.getCode() == 409) {
                    // Another broker instance created it meanwhile: the same launch.
                    return sameLaunch(request, job(name).get());
                }
                return new LaunchOutcome.LaunchFailed(KubernetesFaults.faultOf("create Job " + name, refused));
            }
        });
    }

    /** A launch that finds its Job already there: launched, unless that Job can never run (then it says why). */
    private LaunchOutcome sameLaunch(LaunchRequest request, Job existing) {
        if (existing == null) {
            return new LaunchOutcome.LaunchFailed(new ProviderFault.Transient("the Job of " + request.jobId()
                    + " was there and is gone: launch again"));
        }
        String owner = existing.getMetadata().getAnnotations() == null ? null
                : existing.getMetadata().getAnnotations().get(JobManifests.JOB_ID_ANNOTATION);
        if (!request.jobId().equals(owner)) {
            return new LaunchOutcome.LaunchFailed(new ProviderFault.ProvisioningFailed("the Job named "
                    + existing.getMetadata().getName() + " in namespace " + settings.namespace()
                    + " is not GPU Broker's job " + request.jobId()));
        }
        JobReading.Verdict verdict = verdict(existing);
        if (verdict.giveUp() != null) {
            deleteJob(existing.getMetadata().getName());
            return new LaunchOutcome.LaunchFailed(verdict.giveUp());
        }
        return new LaunchOutcome.Launched(request.jobId());
    }

    @Override
    public Mono<JobStatus> status(String jobId) {
        String name = JobManifests.jobName(jobId);
        return blocking("read the status of job " + jobId, () -> {
            JobReading.Verdict verdict = verdict(job(name).get());
            if (verdict.giveUp() != null) {
                deleteJob(name);
            }
            return verdict.status();
        });
    }

    @Override
    public Mono<LogPage> logs(String jobId, String cursor, int limit) {
        String name = JobManifests.jobName(jobId);
        return blocking("read the logs of job " + jobId, () -> {
            int from = cursor == null ? 0 : cursor.length() > 9 ? Integer.MAX_VALUE : Integer.parseInt(cursor);
            int pageSize = Math.min(Math.max(limit, 1), LOG_PAGE_MAX);
            Optional<Pod> pod = JobReading.newest(podsOf(name));
            if (pod.isEmpty()) {
                boolean jobThere = job(name).get() != null;
                return new LogPage(List.of(), jobThere ? Integer.toString(from) : null);
            }
            boolean podEnded = JobReading.ended(pod.get());
            List<String> lines = visibleLines(readLog(pod.get(), LOG_BYTES_MAX), podEnded);
            List<String> page = from >= lines.size() ? List.of()
                    : lines.subList(from, Math.min(lines.size(), from + pageSize));
            boolean more = from + page.size() < lines.size() || !podEnded;
            return new LogPage(page, Integer.toString(from + page.size()), !more);
        });
    }

    @Override
    public Mono<Void> terminate(String jobId) {
        String name = JobManifests.jobName(jobId);
        return blocking("delete the Job of job " + jobId, () -> {
            deleteJob(name);
            return true;
        }).then();
    }

    private JobReading.Verdict verdict(Job job) {
        if (job == null) {
            return JobReading.read(null, null, List.of(), clock.instant(), settings.imagePullTimeout());
        }
        Optional<Pod> pod = JobReading.newest(podsOf(job.getMetadata().getName()));
        List<String> firstLines = pod.filter(JobReading::needsLogs)
                .map(running -> Arrays.stream(readLog(running, PROBE_LOG_BYTES_MAX).split("\n", PROBE_LINES_MAX + 1))
                        .limit(PROBE_LINES_MAX).toList())
                .orElse(List.of());
        return JobReading.read(job, pod.orElse(null), firstLines, clock.instant(), settings.imagePullTimeout());
    }

    private Map<String, GpuNodes.ModelCapacity> capacities() {
        List<Node> nodes = client.nodes().withLabel(GpuNodes.PRODUCT_LABEL).list().getItems();
        Set<String> unknownProducts = new java.util.TreeSet<>();
        List<GpuNodes.GpuNode> gpuNodes = GpuNodes.read(nodes, allPods(), unknownProducts);
        unknownProducts.forEach(product -> reportOnce("product:" + product, "Provider kubernetes: GPU product {} (label "
                + GpuNodes.PRODUCT_LABEL + ") is no model GPU Broker sells: its nodes are not offered", product));
        return GpuNodes.byModel(gpuNodes);
    }

    /** Every pod of the cluster (they hold GPUs on the GPU nodes), a page at a time, up to a bound. */
    private List<Pod> allPods() {
        List<Pod> pods = new ArrayList<>();
        String next = null;
        for (int page = 0; page < POD_PAGES_MAX; page++) {
            PodList list = client.pods().inAnyNamespace().list(new ListOptionsBuilder()
                    .withLimit((long) POD_PAGE_SIZE).withContinue(next).build());
            pods.addAll(list.getItems());
            next = list.getMetadata() == null ? null : list.getMetadata().getContinue();
            if (next == null || next.isEmpty()) {
                return pods;
            }
        }
        reportOnce("pods", "Provider kubernetes: more than {} pods in the cluster; the GPUs of the rest are not"
                + " counted as used", POD_PAGE_SIZE * POD_PAGES_MAX);
        return pods;
    }

    private List<Pod> podsOf(String jobName) {
        return client.pods().inNamespace(settings.namespace()).withLabel(JobManifests.POD_JOB_NAME_LABEL, jobName)
                .list().getItems();
    }

    /** The start of the pod's log (at most {@code bytesMax}); empty while the container has none to give. */
    private String readLog(Pod pod, int bytesMax) {
        try {
            String text = client.pods().inNamespace(settings.namespace()).withName(pod.getMetadata().getName())
                    .inContainer(JobManifests.CONTAINER)
                    // The log API itself says whether there is a log; fabric8 would otherwise wait for the pod to be Ready.
                    .withReadyWaitTimeout(0)
                    .limitBytes(bytesMax).getLog();
            return text == null ? "" : text;
        } catch (KubernetesClientException notYet) {
            if (notYet.getCode() == 400 || notYet.getCode() == 404) {
                // "container is waiting to start", or the pod went meanwhile: no log to read.
                return "";
            }
            throw notYet;
        }
    }

    /**
     * The agent's lines: the log without the readiness probe's line (the broker's, not the job's output), and without
     * a last line still being written while the pod runs (it comes whole in a later page).
     */
    private static List<String> visibleLines(String log, boolean podEnded) {
        if (log.isEmpty()) {
            return List.of();
        }
        List<String> lines = new ArrayList<>(Arrays.asList(log.split("\n", -1)));
        String last = lines.removeLast();
        if (podEnded && !last.isEmpty()) {
            lines.add(last);
        }
        for (int index = 0; index < lines.size(); index++) {
            if (lines.get(index).startsWith(ReadinessProbe.PREFIX)) {
                lines.remove(index);
                break;
            }
        }
        return lines;
    }

    private void deleteJob(String name) {
        // Background: the Job goes now and the garbage collector stops its pod; a Job already gone is fine.
        job(name).withPropagationPolicy(DeletionPropagation.BACKGROUND).delete();
    }

    private Resource<Job> job(String name) {
        return client.batch().v1().jobs().inNamespace(settings.namespace()).withName(name);
    }

    private void reportOnce(String key, String message, Object... arguments) {
        if (reported.add(key)) {
            log.warn(message, arguments);
        }
    }

    private static <T> Mono<T> blocking(String doing, Callable<T> call) {
        // The client's failures (refusals, and a server it cannot reach, which it wraps too) become faults; anything
        // else is a bug here and stays what it is.
        return Mono.fromCallable(call).subscribeOn(Schedulers.boundedElastic())
                .onErrorMap(KubernetesClientException.class, error -> KubernetesFaults.unavailable(doing, error));
    }
}
