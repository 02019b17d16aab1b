package dev.gpubroker.market.kubernetes;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import io.fabric8.kubernetes.api.model.ContainerStateBuilder;
import io.fabric8.kubernetes.api.model.ContainerStatusBuilder;
import io.fabric8.kubernetes.api.model.NodeBuilder;
import io.fabric8.kubernetes.api.model.Pod;
import io.fabric8.kubernetes.api.model.PodBuilder;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.StatusBuilder;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesMixedDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.ServerRequest;
import io.fabric8.mockwebserver.ServerResponse;

/**
 * A Kubernetes API server for the provider's tests: fabric8's mock server in CRUD mode (objects created, read, listed
 * and deleted as a real API server stores them), mixed with expectations for what CRUD mode does not serve (a pod's
 * log) and for refusals (403, 429). The test plays the rest of the cluster through this class: the nodes GPU feature
 * discovery labelled, the Job controller making a Job's pod, and the kubelet moving the pod through its phases and
 * writing its log. With {@link #autoRun(boolean)} on, a background "kubelet" does that for every new Job: a pod that
 * is Pending, then Running on a node of the product asked, with a log that starts with the readiness probe's line.
 */
final class ClusterFake implements AutoCloseable {

    static final String NAMESPACE = "gpubroker-jobs";
    static final String H100_PRODUCT = "NVIDIA-H100-80GB-HBM3";
    static final String H100_PROBE_LINE = dev.gpubroker.market.remote.ReadinessProbe.PREFIX + "NVIDIA H100 80GB HBM3, 81559;";
    /** The limits the provider asks the log with: the probe's first lines, and a page of the whole log. */
    private static final List<Integer> LOG_LIMIT_BYTES = List.of(64 * 1024, 8 * 1024 * 1024);

    private final KubernetesMockServer server;
    private final KubernetesClient client;
    private final ScheduledExecutorService kubelet = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread thread = new Thread(task, "cluster-fake-kubelet");
        thread.setDaemon(true);
        return thread;
    });
    private volatile boolean autoRun = true;
    private static final String AUTO_RUN_LOG = H100_PROBE_LINE + "\n" + dev.gpubroker.market.ProviderContract.MARKER + "\n";

    ClusterFake() {
        Map<ServerRequest, Queue<ServerResponse>> responses = new HashMap<>();
        server = new KubernetesMockServer(new Context(), new MockWebServer(), responses,
                new KubernetesMixedDispatcher(responses), false);
        server.init();
        // The broker's own client settings (timeouts, no retries of its own), pointed at this server.
        client = KubernetesCluster.client(server.createClient().getConfiguration(), java.time.Duration.ofSeconds(10));
        kubelet.scheduleWithFixedDelay(this::runNewJobs, 50, 50, TimeUnit.MILLISECONDS);
    }

    /** A client of this server, as the broker's would be. */
    KubernetesClient client() {
        return client;
    }

    KubernetesMockServer server() {
        return server;
    }

    void autoRun(boolean on) {
        this.autoRun = on;
    }

    /** A Ready GPU node labelled by GPU feature discovery. */
    void gpuNode(String name, String product, Integer memoryMib, int allocatableGpus) {
        NodeBuilder node = new NodeBuilder().withNewMetadata().withName(name)
                .addToLabels(GpuNodes.PRODUCT_LABEL, product).endMetadata()
                .withNewSpec().endSpec()
                .withNewStatus()
                    .addToAllocatable(GpuNodes.GPU_RESOURCE, new Quantity(Integer.toString(allocatableGpus)))
                    .addToAllocatable("cpu", new Quantity("64"))
                    .addNewCondition().withType("Ready").withStatus("True").endCondition()
                .endStatus();
        if (memoryMib != null) {
            node.editMetadata().addToLabels(GpuNodes.MEMORY_LABEL, memoryMib.toString()).endMetadata();
        }
        client.nodes().resource(node.build()).create();
    }

    /** Someone else's pod on a node, asking for GPUs, in this phase. */
    void tenantPod(String namespace, String name, String node, int gpus, String phase) {
        client.pods().inNamespace(namespace).resource(new PodBuilder()
                .withNewMetadata().withName(name).withNamespace(namespace).endMetadata()
                .withNewSpec().withNodeName(node).addNewContainer().withName("main").withImage("pytorch")
                    .withNewResources().addToLimits(GpuNodes.GPU_RESOURCE, new Quantity(Integer.toString(gpus)))
                    .endResources().endContainer().endSpec()
                .withNewStatus().withPhase(phase).endStatus()
                .build()).create();
    }

    Job job(String jobId) {
        return client.batch().v1().jobs().inNamespace(NAMESPACE).withName(JobManifests.jobName(jobId)).get();
    }

    List<Job> jobs() {
        return client.batch().v1().jobs().inNamespace(NAMESPACE).list().getItems();
    }

    /** The Job controller's and the kubelet's part: the Job's pod, Pending on a node of the product it selects, since then. */
    Pod podPending(String jobId, Instant created) {
        Job job = job(jobId);
        String name = job.getMetadata().getName();
        String product = job.getSpec().getTemplate().getSpec().getNodeSelector().get(GpuNodes.PRODUCT_LABEL);
        String node = client.nodes().withLabel(GpuNodes.PRODUCT_LABEL, product).list().getItems().getFirst()
                .getMetadata().getName();
        Pod pod = new PodBuilder()
                .withNewMetadata().withName(name + "-x7k2p").withNamespace(NAMESPACE)
                    .withCreationTimestamp(created.truncatedTo(ChronoUnit.SECONDS).toString())
                    .addToLabels(JobManifests.POD_JOB_NAME_LABEL, name)
                    .addToLabels("batch.kubernetes.io/job-name", name)
                .endMetadata()
                .withSpec(job.getSpec().getTemplate().getSpec())
                .editSpec().withNodeName(node).endSpec()
                // The kubelet took it then (the API server sets the creation time itself).
                .withNewStatus().withPhase("Pending").withStartTime(created.truncatedTo(ChronoUnit.SECONDS).toString())
                .endStatus()
                .build();
        return client.pods().inNamespace(NAMESPACE).resource(pod).create();
    }

    /** The kubelet cannot pull the image: the container waits with this reason (ErrImagePull, ImagePullBackOff). */
    void podCannotPull(String jobId, String reason) {
        updatePod(jobId, new PodBuilder(pod(jobId)).editStatus().withPhase("Pending")
                .withContainerStatuses(new ContainerStatusBuilder().withName(JobManifests.CONTAINER).withReady(false)
                        .withState(new ContainerStateBuilder().withNewWaiting().withReason(reason)
                                .withMessage("Back-off pulling image \"registry.example/missing:1\"").endWaiting().build())
                        .build())
                .endStatus().build());
    }

    /** The container runs since {@code startedAt} and has written {@code log}. */
    void podRunning(String jobId, Instant startedAt, String log) {
        String started = startedAt.truncatedTo(ChronoUnit.SECONDS).toString();
        updatePod(jobId, new PodBuilder(pod(jobId)).editStatus().withPhase("Running").withStartTime(started)
                .addNewCondition().withType("Ready").withStatus("True").endCondition()
                .withContainerStatuses(new ContainerStatusBuilder().withName(JobManifests.CONTAINER).withReady(true)
                        .withState(new ContainerStateBuilder().withNewRunning().withStartedAt(started).endRunning().build())
                        .build())
                .endStatus().build());
        log(jobId, log);
    }

    /** The container ended with this exit code. */
    void podEnded(String jobId, Instant startedAt, Instant finishedAt, int exitCode) {
        String phase = exitCode == 0 ? "Succeeded" : "Failed";
        updatePod(jobId, new PodBuilder(pod(jobId)).editStatus().withPhase(phase)
                .withContainerStatuses(new ContainerStatusBuilder().withName(JobManifests.CONTAINER).withReady(false)
                        .withState(new ContainerStateBuilder().withNewTerminated().withExitCode(exitCode)
                                .withReason(exitCode == 0 ? "Completed" : "Error")
                                .withStartedAt(startedAt.truncatedTo(ChronoUnit.SECONDS).toString())
                                .withFinishedAt(finishedAt.truncatedTo(ChronoUnit.SECONDS).toString())
                                .endTerminated().build())
                        .build())
                .endStatus().build());
    }

    /** The kubelet evicted the pod (node memory pressure), as it reports it: phase Failed, reason Evicted. */
    void podEvicted(String jobId) {
        updatePod(jobId, new PodBuilder(pod(jobId)).editStatus().withPhase("Failed").withReason("Evicted")
                .withMessage("The node was low on resource: memory.").endStatus().build());
    }

    /** The Job controller's answer to activeDeadlineSeconds: the Job failed with reason DeadlineExceeded. */
    void jobDeadlineExceeded(String jobId, Instant at) {
        Job job = job(jobId);
        job.setStatus(new io.fabric8.kubernetes.api.model.batch.v1.JobStatusBuilder().addNewCondition()
                .withType("Failed").withStatus("True").withReason("DeadlineExceeded")
                .withMessage("Job was active longer than specified deadline")
                .withLastTransitionTime(at.truncatedTo(ChronoUnit.SECONDS).toString()).endCondition().build());
        client.batch().v1().jobs().inNamespace(NAMESPACE).resource(job).update();
    }

    /** The pod's log, served at the log API's path (CRUD mode has no logs: expectations serve them). */
    void log(String jobId, String text) {
        String pod = pod(jobId).getMetadata().getName();
        for (int limitBytes : LOG_LIMIT_BYTES) {
            server.expect().get().withPath("/api/v1/namespaces/" + NAMESPACE + "/pods/" + pod
                    + "/log?pretty=false&container=" + JobManifests.CONTAINER + "&limitBytes=" + limitBytes)
                    .andReturn(200, text).always();
        }
    }

    /** The API server refuses the next call of this method on this path with this code (as it words a refusal). */
    void refuseOnce(String method, String path, int code, String reason, String message, Integer retryAfterSeconds) {
        var status = new StatusBuilder().withStatus("Failure").withCode(code).withReason(reason).withMessage(message);
        if (retryAfterSeconds != null) {
            status.withNewDetails().withRetryAfterSeconds(retryAfterSeconds).endDetails();
        }
        var expectation = switch (method) {
            case "GET" -> server.expect().get();
            case "POST" -> server.expect().post();
            case "DELETE" -> server.expect().delete();
            default -> throw new IllegalArgumentException(method);
        };
        expectation.withPath(path).andReturn(code, status.build()).once();
    }

    Pod pod(String jobId) {
        return client.pods().inNamespace(NAMESPACE)
                .withLabel(JobManifests.POD_JOB_NAME_LABEL, JobManifests.jobName(jobId)).list().getItems().getFirst();
    }

    private void updatePod(String jobId, Pod pod) {
        client.pods().inNamespace(NAMESPACE).resource(pod).update();
    }

    private void runNewJobs() {
        if (!autoRun) {
            return;
        }
        try {
            for (Job job : jobs()) {
                String name = job.getMetadata().getName();
                String jobId = job.getMetadata().getAnnotations().get(JobManifests.JOB_ID_ANNOTATION);
                List<Pod> pods = client.pods().inNamespace(NAMESPACE)
                        .withLabel(JobManifests.POD_JOB_NAME_LABEL, name).list().getItems();
                if (pods.isEmpty()) {
                    podPending(jobId, Instant.now());
                } else if ("Pending".equals(pods.getFirst().getStatus().getPhase())) {
                    podRunning(jobId, Instant.now(), AUTO_RUN_LOG);
                }
            }
        } catch (RuntimeException raced) {
            // A Job deleted between the list and the pod: the next round sees it gone.
        }
    }

    @Override
    public void close() {
        kubelet.shutdownNow();
        client.close();
        server.destroy();
    }
}
