package dev.gpubroker.market.kubernetes;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.math.BigDecimal;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.gpubroker.market.JobSignal;
import dev.gpubroker.market.JobStatus;
import dev.gpubroker.market.LaunchOutcome;
import dev.gpubroker.market.LaunchRequest;
import dev.gpubroker.market.LogPage;
import dev.gpubroker.market.Offer;
import dev.gpubroker.market.OfferQuery;
import dev.gpubroker.market.ProviderFault;
import dev.gpubroker.market.ProviderUnavailableException;
import dev.gpubroker.market.remote.ReadinessProbe;
import dev.gpubroker.money.PricePerGpuHour;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Quantity;
import io.fabric8.kubernetes.api.model.batch.v1.Job;

/** What the contract does not cover: the Job sent, the offers' arithmetic, each status mapping, logs, refusals. */
class KubernetesProviderTest {

    private static final Instant STARTED = Instant.parse("2026-11-30T09:00:00Z");

    private ClusterFake cluster;
    private KubernetesProvider provider;

    @BeforeEach
    void startTheCluster() {
        cluster = new ClusterFake();
        cluster.autoRun(false);
        cluster.gpuNode("gpu-h100-a", ClusterFake.H100_PRODUCT, 81559, 8);
        provider = provider("");
    }

    @AfterEach
    void stopTheCluster() {
        cluster.close();
    }

    private KubernetesProvider provider(String queue) {
        return new KubernetesProvider(cluster.client(), new KubernetesProperties(true, "", ClusterFake.NAMESPACE, queue,
                Map.of("H100", new BigDecimal("2.50"), "a100-80gb", new BigDecimal("1.2"), "RTX4090", new BigDecimal("0.4")),
                "on-prem", 0.97, "nvidia/cuda:12.4.1-base-ubuntu22.04", Duration.ofMinutes(5), Duration.ofHours(24),
                Duration.ofSeconds(10), Duration.ZERO), Clock.systemUTC());
    }

    @Test
    void aLaunchCreatesOneJobOfTheGpusAskedOnTheModelsNodesWithTheProbeAndTheDeadline() {
        LaunchRequest request = new LaunchRequest("job_Abc_1", "hold_1", "H100", 2, List.of("python", "train.py"), null,
                Map.of("SEED", "7"), Duration.ofMinutes(45));

        assertThat(provider.launch(request).block()).isEqualTo(new LaunchOutcome.Launched("job_Abc_1"));

        Job job = cluster.job("job_Abc_1");
        assertThat(job.getMetadata().getName()).startsWith("job-abc-1-").hasSizeLessThanOrEqualTo(63);
        assertThat(job.getMetadata().getLabels()).containsEntry("app.kubernetes.io/managed-by", "gpu-broker")
                .containsEntry("gpubroker.dev/job-id", "job_Abc_1").doesNotContainKey("kueue.x-k8s.io/queue-name");
        assertThat(job.getSpec().getSuspend()).isFalse();
        assertThat(job.getSpec().getBackoffLimit()).isZero();
        assertThat(job.getSpec().getActiveDeadlineSeconds()).isEqualTo(45 * 60L);
        PodSpec pod = job.getSpec().getTemplate().getSpec();
        assertThat(pod.getRestartPolicy()).isEqualTo("Never");
        assertThat(pod.getNodeSelector()).containsExactly(Map.entry("nvidia.com/gpu.product", ClusterFake.H100_PRODUCT));
        assertThat(pod.getContainers()).hasSize(1);
        var container = pod.getContainers().getFirst();
        assertThat(container.getImage()).isEqualTo("nvidia/cuda:12.4.1-base-ubuntu22.04");
        assertThat(container.getCommand()).isEqualTo(ReadinessProbe.wrap(List.of("python", "train.py")));
        assertThat(container.getResources().getLimits()).containsEntry("nvidia.com/gpu", new Quantity("2"));
        assertThat(container.getEnv()).extracting(variable -> variable.getName() + "=" + variable.getValue())
                .containsExactly("SEED=7", "GPUBROKER_JOB_ID=job_Abc_1");
    }

    @Test
    void withAKueueQueueTheJobIsCreatedSuspendedAndLabelledForIt() {
        provider("team-gpus").launch(request("job_queued", 1)).block();

        Job job = cluster.job("job_queued");
        assertThat(job.getMetadata().getLabels()).containsEntry("kueue.x-k8s.io/queue-name", "team-gpus");
        assertThat(job.getSpec().getSuspend()).isTrue();
        assertThat(provider.status("job_queued").block()).isEqualTo(new JobStatus.Starting());
    }

    @Test
    void aSecondLaunchOfTheSameJobFindsItsJobAndCreatesNothing() {
        provider.launch(request("job_twice", 1)).block();
        String firstUid = cluster.job("job_twice").getMetadata().getUid();

        assertThat(provider.launch(request("job_twice", 1)).block()).isEqualTo(new LaunchOutcome.Launched("job_twice"));

        assertThat(cluster.jobs()).hasSize(1);
        assertThat(cluster.job("job_twice").getMetadata().getUid()).isEqualTo(firstUid);
    }

    @Test
    void offersCountEachNodesFreeGpusAtTheOperatorsPriceAndSkipWhatCannotBeSold() {
        cluster.tenantPod("research", "running", "gpu-h100-a", 3, "Running");
        cluster.tenantPod("research", "pulling", "gpu-h100-a", 1, "Pending");
        cluster.tenantPod("research", "done", "gpu-h100-a", 8, "Succeeded");
        cluster.gpuNode("gpu-h100-b", ClusterFake.H100_PRODUCT, 81559, 2);
        cluster.gpuNode("gpu-a100", "NVIDIA-A100-SXM4-80GB", 81920, 4);
        cluster.gpuNode("gpu-t4", "Tesla-T4", 15360, 4);
        cluster.gpuNode("gpu-mig", "NVIDIA-H100-80GB-HBM3-MIG-1g.10gb", 9856, 56);
        cluster.gpuNode("gpu-l40s", "NVIDIA-L40S", 46068, 4);
        cluster.gpuNode("gpu-4090", "NVIDIA-GeForce-RTX-4090", null, 1);
        cluster.client().nodes().withName("gpu-4090").edit(node -> {
            node.getSpec().setUnschedulable(true);
            return node;
        });

        List<Offer> offers = provider.offers(OfferQuery.any(1)).block();

        assertThat(offers).extracting(Offer::offerId, Offer::gpu, Offer::vramGb, Offer::availableGpus)
                .containsExactlyInAnyOrder(
                        org.assertj.core.groups.Tuple.tuple("H100", "H100", 80, 4),
                        org.assertj.core.groups.Tuple.tuple("A100-80GB", "A100-80GB", 80, 4));
        Offer h100 = offers.stream().filter(offer -> offer.gpu().equals("H100")).findFirst().orElseThrow();
        assertThat(h100.price()).as("the configured price, no markup").isEqualTo(new PricePerGpuHour(2_500_000));
        assertThat(h100.provider()).isEqualTo("kubernetes");
        assertThat(h100.region()).isEqualTo("on-prem");
        assertThat(h100.reliability()).isEqualTo(0.97);
    }

    @Test
    void aLaunchForMoreGpusThanAnyOneNodeHasFreeIsRefusedAsNoCapacity() {
        cluster.gpuNode("gpu-h100-b", ClusterFake.H100_PRODUCT, 81559, 8);
        cluster.tenantPod("research", "big", "gpu-h100-a", 5, "Running");
        cluster.tenantPod("research", "other", "gpu-h100-b", 5, "Running");

        LaunchOutcome outcome = provider.launch(request("job_six", 6)).block();

        assertThat(outcome).isInstanceOfSatisfying(LaunchOutcome.LaunchFailed.class,
                failed -> assertThat(failed.fault()).isInstanceOf(ProviderFault.NoCapacity.class));
        assertThat(cluster.jobs()).isEmpty();
    }

    @Test
    void statusIsStartingUntilTheProbeLineIsInTheLogThenRunningSinceTheContainerStarted() {
        provider.launch(request("job_up", 1)).block();
        assertThat(provider.status("job_up").block()).as("no pod yet").isEqualTo(new JobStatus.Starting());
        cluster.podPending("job_up", STARTED);
        assertThat(provider.status("job_up").block()).as("pending").isEqualTo(new JobStatus.Starting());

        cluster.podRunning("job_up", STARTED, "");
        assertThat(provider.status("job_up").block()).as("running, no probe line yet").isEqualTo(new JobStatus.Starting());
    }

    @Test
    void aRunningPodWhoseProbeFoundThePromisedGpusIsRunningSinceItsContainerStarted() {
        provider.launch(request("job_run", 1)).block();
        cluster.podPending("job_run", STARTED);
        cluster.podRunning("job_run", STARTED, ClusterFake.H100_PROBE_LINE + "\nepoch 1\n");

        assertThat(provider.status("job_run").block())
                .isEqualTo(new JobStatus.Running(STARTED, "1 x H100 found by nvidia-smi"));
    }

    @Test
    void aPodWhoseProbeFoundAnotherGpuIsLostNeverBilledAndItsJobDeleted() {
        provider.launch(request("job_a100", 1)).block();
        cluster.podPending("job_a100", STARTED);
        cluster.podRunning("job_a100", STARTED, ReadinessProbe.PREFIX + "NVIDIA A100-SXM4-80GB, 81920;\n");

        JobStatus status = provider.status("job_a100").block();

        assertThat(status).isInstanceOfSatisfying(JobStatus.Ended.class, ended -> {
            assertThat(ended.startedAt()).as("never billed").isNull();
            assertThat(ended.how()).isInstanceOfSatisfying(JobSignal.Lost.class,
                    lost -> assertThat(lost.reason()).startsWith("not the GPU promised"));
        });
        assertThat(cluster.job("job_a100")).isNull();
    }

    @Test
    void aPodThatEndedIsExitedWithItsContainersCodeFromItsStart() {
        provider.launch(request("job_done", 1)).block();
        cluster.podPending("job_done", STARTED);
        cluster.podRunning("job_done", STARTED, ClusterFake.H100_PROBE_LINE + "\nbye\n");
        Instant finished = STARTED.plus(12, ChronoUnit.MINUTES);
        cluster.podEnded("job_done", STARTED, finished, 3);

        assertThat(provider.status("job_done").block())
                .isEqualTo(new JobStatus.Ended(STARTED, new JobSignal.Exited(finished, 3, false),
                        "1 x H100 found by nvidia-smi"));
    }

    @Test
    void aJobPastItsDeadlineIsExitedAsTimedOut() {
        provider.launch(request("job_late", 1)).block();
        cluster.podPending("job_late", STARTED);
        cluster.podRunning("job_late", STARTED, ClusterFake.H100_PROBE_LINE + "\nstill going\n");
        Instant deadline = STARTED.plus(30, ChronoUnit.MINUTES);
        cluster.jobDeadlineExceeded("job_late", deadline);

        assertThat(provider.status("job_late").block())
                .isEqualTo(new JobStatus.Ended(STARTED, new JobSignal.Exited(deadline, 124, true)));
    }

    @Test
    void anImageStillBeingPulledIsStartingAndOnePastTheBoundIsLostWithItsJobDeleted() {
        provider.launch(request("job_pull", 1)).block();
        cluster.podPending("job_pull", Instant.now().minus(Duration.ofMinutes(1)));
        cluster.podCannotPull("job_pull", "ErrImagePull");
        assertThat(provider.status("job_pull").block()).as("within 5 minutes").isEqualTo(new JobStatus.Starting());

        provider.launch(request("job_stuck", 1)).block();
        cluster.podPending("job_stuck", Instant.now().minus(Duration.ofMinutes(6)));
        cluster.podCannotPull("job_stuck", "ImagePullBackOff");
        JobStatus status = provider.status("job_stuck").block();

        assertThat(status).isInstanceOfSatisfying(JobStatus.Ended.class, ended -> {
            assertThat(ended.startedAt()).isNull();
            assertThat(((JobSignal.Lost) ended.how()).reason()).contains("image could not be pulled", "ImagePullBackOff");
        });
        assertThat(cluster.job("job_stuck")).isNull();
    }

    @Test
    void anEvictedPodIsLost() {
        provider.launch(request("job_evicted", 1)).block();
        cluster.podPending("job_evicted", STARTED);
        cluster.podRunning("job_evicted", STARTED, ClusterFake.H100_PROBE_LINE + "\n");
        cluster.podEvicted("job_evicted");

        JobStatus status = provider.status("job_evicted").block();

        assertThat(status).isInstanceOfSatisfying(JobStatus.Ended.class, ended -> {
            assertThat(ended.startedAt()).as("billed for what ran").isEqualTo(STARTED);
            assertThat(((JobSignal.Lost) ended.how()).reason()).contains("Evicted", "low on resource");
        });
    }

    @Test
    void logsLeaveOutTheProbeLineAndPageByLineOffsetUntilThePodHasEnded() {
        provider.launch(request("job_logs", 1)).block();
        cluster.podPending("job_logs", STARTED);
        cluster.podRunning("job_logs", STARTED, ClusterFake.H100_PROBE_LINE + "\none\ntwo\nthree\nfour\npartial");

        LogPage first = provider.logs("job_logs", null, 3).block();
        LogPage second = provider.logs("job_logs", first.nextCursor(), 3).block();

        assertThat(first.lines()).containsExactly("one", "two", "three");
        assertThat(second.lines()).as("no half-written last line while it runs").containsExactly("four");
        assertThat(second.nextCursor()).as("it still runs: more may come").isEqualTo("4");
        assertThat(second.complete()).isFalse();

        cluster.podEnded("job_logs", STARTED, STARTED.plusSeconds(60), 0);
        LogPage last = provider.logs("job_logs", second.nextCursor(), 3).block();
        assertThat(last.lines()).containsExactly("partial");
        assertThat(last.complete()).as("ended and all read").isTrue();
        assertThat(last.nextCursor()).as("past the last line").isEqualTo("5");
    }

    @Test
    void aThrottlingApiServerIsTransientForAsLongAsItAsked() {
        cluster.refuseOnce("GET", "/apis/batch/v1/namespaces/" + ClusterFake.NAMESPACE + "/jobs/"
                + JobManifests.jobName("job_busy"), 429, "TooManyRequests", "Too many requests", 7);

        assertThatThrownBy(() -> provider.status("job_busy").block())
                .isInstanceOfSatisfying(ProviderUnavailableException.class, unavailable -> assertThat(
                        unavailable.providerFault()).isEqualTo(new ProviderFault.Transient(unavailable.getMessage(),
                                java.util.Optional.of(Duration.ofSeconds(7)))));
    }

    @Test
    void terminateDeletesTheJobAndAgainIsFine() {
        provider.launch(request("job_stop", 1)).block();

        provider.terminate("job_stop").block();
        provider.terminate("job_stop").block();

        assertThat(cluster.job("job_stop")).isNull();
        assertThat(provider.status("job_stop").block()).isInstanceOfSatisfying(JobStatus.Ended.class,
                ended -> assertThat(ended.how()).isInstanceOf(JobSignal.Lost.class));
    }

    @Test
    void jobNamesAreDns1123LabelsAndLookAlikeIdsGetDifferentNames() {
        String longId = "job_" + "X".repeat(100);

        assertThat(JobManifests.jobName(longId)).hasSizeLessThanOrEqualTo(63).matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
        assertThat(JobManifests.jobName("job_abc")).matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?");
        assertThat(JobManifests.jobName("Job_A")).isNotEqualTo(JobManifests.jobName("job-a"));
        assertThat(JobManifests.jobName("job_abc")).isEqualTo(JobManifests.jobName("job_abc"));
    }

    private static LaunchRequest request(String jobId, int gpus) {
        return new LaunchRequest(jobId, "hold_" + jobId, "H100", gpus, List.of("nvidia-smi"), null, Map.of(),
                Duration.ofMinutes(30));
    }
}
