package dev.gpubroker.market.kubernetes;

import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.RegisterExtension;

import dev.gpubroker.market.ComputeProvider;
import dev.gpubroker.market.LaunchRequest;
import dev.gpubroker.market.ProviderContract;
import dev.gpubroker.market.ProviderFault;

/**
 * The provider contract against fabric8's Kubernetes mock API server in CRUD mode, the test playing the cluster
 * ({@link ClusterFake}): one H100 node with 8 allocatable GPUs, and a kubelet that runs each new Job's pod with the
 * readiness probe's line and the contract's marker in its log.
 */
class KubernetesProviderContractTest extends ProviderContract {

    private ClusterFake cluster;
    private KubernetesProvider provider;

    // Runs after the contract's own @AfterEach (which terminates what it launched): the server goes last.
    @RegisterExtension
    final AfterEachCallback closeTheCluster = context -> cluster.close();

    @BeforeEach
    void startTheCluster() {
        cluster = new ClusterFake();
        cluster.gpuNode("gpu-h100-a", ClusterFake.H100_PRODUCT, 81559, 8);
        provider = new KubernetesProvider(cluster.client(), settings(Duration.ofMinutes(5)), Clock.systemUTC());
    }

    static KubernetesProperties settings(Duration imagePullTimeout) {
        return new KubernetesProperties(true, "", ClusterFake.NAMESPACE, "", Map.of("H100", new BigDecimal("2.50")),
                "cluster", 0.98, "nvidia/cuda:12.4.1-base-ubuntu22.04", imagePullTimeout, Duration.ofHours(24),
                Duration.ofSeconds(10), Duration.ZERO);
    }

    @Override
    protected ComputeProvider provider() {
        return provider;
    }

    @Override
    protected List<FaultScenario> faultScenarios() {
        String jobsPath = "/apis/batch/v1/namespaces/" + ClusterFake.NAMESPACE + "/jobs";
        return List.of(
                new FaultScenario("more GPUs than any node has free is no capacity",
                        () -> {
                            cluster.autoRun(false);
                            cluster.tenantPod("research", "train-llm", "gpu-h100-a", 5, "Running");
                        },
                        () -> provider.launch(request("job_toomany", 4)),
                        ProviderFault.NoCapacity.class),
                new FaultScenario("a 403 from the API server (RBAC) is the operator's to fix",
                        () -> cluster.refuseOnce("POST", jobsPath, 403, "Forbidden", "jobs.batch is forbidden: User"
                                + " \"system:serviceaccount:gpubroker:broker\" cannot create resource \"jobs\" in API"
                                + " group \"batch\" in the namespace \"gpubroker-jobs\"", null),
                        () -> provider.launch(request("job_forbidden", 1)),
                        ProviderFault.QuotaOrAuth.class),
                new FaultScenario("a 429 from the API server is transient",
                        () -> cluster.refuseOnce("GET", jobsPath + "/" + JobManifests.jobName("job_throttled"), 429,
                                "TooManyRequests", "Too many requests, please try again later.", 3),
                        () -> provider.status("job_throttled"),
                        ProviderFault.Transient.class),
                new FaultScenario("an image that cannot be pulled is a provisioning failure",
                        () -> {
                            provider.launch(request("job_badimage", 1)).block();
                            cluster.podPending("job_badimage", Instant.now().minus(Duration.ofMinutes(6)));
                            cluster.podCannotPull("job_badimage", "ImagePullBackOff");
                        },
                        () -> provider.launch(request("job_badimage", 1)),
                        ProviderFault.ProvisioningFailed.class),
                new FaultScenario("a pod whose probe finds another GPU is lost, never billed",
                        () -> {
                            provider.launch(request("job_wronggpu", 1)).block();
                            cluster.podPending("job_wronggpu", Instant.now());
                            cluster.podRunning("job_wronggpu", Instant.now(), dev.gpubroker.market.remote.ReadinessProbe.PREFIX
                                    + "NVIDIA A100-SXM4-80GB, 81920;\nhello\n");
                        },
                        () -> provider.status("job_wronggpu"),
                        ProviderFault.Interrupted.class),
                new FaultScenario("an evicted pod is an interrupted job",
                        () -> {
                            provider.launch(request("job_evicted", 1)).block();
                            cluster.podPending("job_evicted", Instant.now());
                            cluster.podRunning("job_evicted", Instant.now(), ClusterFake.H100_PROBE_LINE + "\nstep 1\n");
                            cluster.podEvicted("job_evicted");
                        },
                        () -> provider.status("job_evicted"),
                        ProviderFault.Interrupted.class));
    }

    private static LaunchRequest request(String jobId, int gpus) {
        return new LaunchRequest(jobId, "hold_" + jobId, "H100", gpus, List.of("nvidia-smi"), null, Map.of(),
                Duration.ofMinutes(30));
    }
}
