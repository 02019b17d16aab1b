package dev.gpubroker.market.local;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.gpubroker.market.HostedCapacity;
import dev.gpubroker.market.JobSignal;
import dev.gpubroker.market.JobStatus;
import dev.gpubroker.market.LaunchOutcome;
import dev.gpubroker.market.LaunchRequest;
import dev.gpubroker.market.LogPage;
import dev.gpubroker.market.process.JobSandbox;
import dev.gpubroker.money.PricePerGpuHour;
import reactor.test.StepVerifier;

/** Jobs on this host run for real, through the process runner, on the GPUs the provider gave them. */
class LocalProviderLaunchTest {

    private static final LocalSettings SETTINGS = new LocalSettings(PricePerGpuHour.parse("2.00"), "local", 0.99);
    private static final List<DetectedGpu> FOUR_H100 = NvidiaSmi.parse(List.of(
            "0, NVIDIA H100 80GB HBM3, 81559",
            "1, NVIDIA H100 80GB HBM3, 81559",
            "2, NVIDIA H100 80GB HBM3, 81559",
            "3, NVIDIA H100 80GB HBM3, 81559"));
    private static final List<String> PRINT_GPUS_THEN_SLEEP = List.of("sh", "-c",
            "echo $CUDA_VISIBLE_DEVICES; exec sleep 60");

    @TempDir
    Path dir;

    private HostedCapacity capacity;
    private final List<LocalProvider> providers = new ArrayList<>();
    private final List<String> launched = new ArrayList<>();

    @BeforeEach
    void database() {
        capacity = dev.gpubroker.market.ProviderTestDatabase.capacity(dir);
    }

    @AfterEach
    void stopEveryJob() {
        providers.forEach(provider -> launched.forEach(jobId -> provider.terminate(jobId).block(Duration.ofSeconds(10))));
    }

    @Test
    void aCommandRunsWithCudaVisibleDevicesNamingTheGpusItWasGiven() {
        LocalProvider provider = provider();

        assertThat(launch(provider, "job_a", 2, List.of("sh", "-c",
                "echo \"$CUDA_VISIBLE_DEVICES|$NVIDIA_VISIBLE_DEVICES|$GREETING|$GPUBROKER_JOB_ID\""), null))
                .isEqualTo(new LaunchOutcome.Launched("job_a"));
        JobStatus status = await().atMost(Duration.ofSeconds(20))
                .until(() -> provider.status("job_a").block(Duration.ofSeconds(5)), JobStatus.Ended.class::isInstance);
        assertThat(((JobStatus.Ended) status).startedAt()).as("it ran").isNotNull();
        assertThat(((JobStatus.Ended) status).how()).isInstanceOfSatisfying(JobSignal.Exited.class,
                exited -> assertThat(exited.exitCode()).isZero());

        assertThat(output(provider, "job_a")).containsExactly("0,1|0,1|hello|job_a");
        await().atMost(Duration.ofSeconds(10)).until(() -> provider.gpusInUse().isEmpty());
    }

    @Test
    void runningJobsNeverShareAGpuAndAStoppedJobsGpusGoToTheNext() {
        LocalProvider provider = provider();

        assertThat(launch(provider, "job_a", 3, PRINT_GPUS_THEN_SLEEP, null)).isInstanceOf(LaunchOutcome.Launched.class);
        assertThat(launch(provider, "job_b", 1, PRINT_GPUS_THEN_SLEEP, null)).isInstanceOf(LaunchOutcome.Launched.class);
        assertThat(launch(provider, "job_c", 1, PRINT_GPUS_THEN_SLEEP, null))
                .isInstanceOfSatisfying(LaunchOutcome.LaunchFailed.class,
                        failed -> assertThat(failed.reason()).contains("fewer than 1 of this host's 4 H100 GPUs are free"));
        awaitStarted(provider, "job_a");
        awaitStarted(provider, "job_b");
        assertThat(output(provider, "job_a")).containsExactly("0,1,2");
        assertThat(output(provider, "job_b")).containsExactly("3");

        StepVerifier.create(provider.terminate("job_a")).verifyComplete();
        await().atMost(Duration.ofSeconds(10)).until(() -> provider.gpusInUse().equals(Set.of(3)));

        assertThat(launch(provider, "job_d", 3, PRINT_GPUS_THEN_SLEEP, null)).isInstanceOf(LaunchOutcome.Launched.class);
        awaitStarted(provider, "job_d");
        assertThat(output(provider, "job_d")).containsExactly("0,1,2");
    }

    @Test
    void aJobsGpusGoToTheNextJobOnlyOnceNothingItStartedIsLeft() {
        LocalProvider provider = provider();
        String marker = "600." + java.util.concurrent.ThreadLocalRandom.current().nextInt(100_000, 999_999);

        // Children that would outlive the job, and keep its GPUs busy under the next one.
        assertThat(launch(provider, "job_a", 4, List.of("sh", "-c", "(sleep " + marker + " &); setsid sleep " + marker
                + " & echo started"), null)).isInstanceOf(LaunchOutcome.Launched.class);
        await().atMost(Duration.ofSeconds(10)).until(() -> provider.gpusInUse().isEmpty());

        assertThat(ProcessHandle.allProcesses().anyMatch(process -> process.info().commandLine()
                .map(line -> line.contains("sleep " + marker)).orElse(false)))
                .as("nothing of job_a runs on the GPUs it gave back").isFalse();
        assertThat(launch(provider, "job_b", 4, PRINT_GPUS_THEN_SLEEP, null)).isInstanceOf(LaunchOutcome.Launched.class);
    }

    @Test
    void launchingTheSameJobTwiceRunsItOnceOnTheSameGpus() {
        LocalProvider provider = provider();

        assertThat(launch(provider, "job_a", 2, PRINT_GPUS_THEN_SLEEP, null)).isInstanceOf(LaunchOutcome.Launched.class);
        assertThat(launch(provider, "job_a", 2, PRINT_GPUS_THEN_SLEEP, null)).isInstanceOf(LaunchOutcome.Launched.class);

        assertThat(provider.gpusInUse()).containsExactlyInAnyOrder(0, 1);
        awaitStarted(provider, "job_a");
        assertThat(output(provider, "job_a")).containsExactly("0,1");
    }

    @Test
    void anImageIsRefusedWhenThisHostHasNoContainerRuntimeAndTakesNoGpu() {
        LocalProvider provider = provider();

        assertThat(launch(provider, "job_a", 1, List.of("python", "train.py"), "pytorch/pytorch:latest"))
                .isInstanceOfSatisfying(LaunchOutcome.LaunchFailed.class, failed -> assertThat(failed.reason())
                        .contains("no working container runtime", "pytorch/pytorch:latest"));
        assertThat(provider.gpusInUse()).isEmpty();
    }

    @Test
    void aLaunchThatFailsOnTheWayGivesItsGpusBack() {
        LocalProvider provider = provider();
        LaunchRequest badEnvironment = new LaunchRequest("job_a", "res_job_a", "local-h100", 2, PRINT_GPUS_THEN_SLEEP, null,
                Map.of("NOT-A-NAME", "x"), Duration.ofMinutes(2));

        StepVerifier.create(provider.launch(badEnvironment)).expectError(IllegalArgumentException.class)
                .verify(Duration.ofSeconds(10));

        assertThat(provider.gpusInUse()).isEmpty();
    }

    @Test
    void theGpusOfAJobStillRunningStayTakenAfterARestart() {
        LocalProvider beforeRestart = provider();
        assertThat(launch(beforeRestart, "job_a", 4, PRINT_GPUS_THEN_SLEEP, null))
                .isInstanceOf(LaunchOutcome.Launched.class);
        awaitStarted(beforeRestart, "job_a");

        LocalProvider afterRestart = provider();
        assertThat(launch(afterRestart, "job_b", 1, PRINT_GPUS_THEN_SLEEP, null))
                .isInstanceOf(LaunchOutcome.LaunchFailed.class);
        assertThat(afterRestart.gpusInUse()).containsExactlyInAnyOrder(0, 1, 2, 3);

        StepVerifier.create(afterRestart.terminate("job_a")).verifyComplete();
        await().atMost(Duration.ofSeconds(10)).until(() -> afterRestart.gpusInUse().isEmpty());
        assertThat(launch(afterRestart, "job_c", 2, PRINT_GPUS_THEN_SLEEP, null)).isInstanceOf(LaunchOutcome.Launched.class);
        assertThat(afterRestart.gpusInUse()).containsExactlyInAnyOrder(0, 1);
        awaitStarted(afterRestart, "job_c");
    }

    private LocalProvider provider() {
        LocalProvider provider = new LocalProvider(SETTINGS, FOUR_H100, Optional.empty(), capacity, dir,
                JobSandbox.probe(dir.resolve("jobs"), JobSandbox.Settings.DEFAULT), Clock.systemUTC());
        providers.add(provider);
        return provider;
    }

    private LaunchOutcome launch(LocalProvider provider, String jobId, int gpuCount, List<String> command, String image) {
        launched.add(jobId);
        return provider.launch(new LaunchRequest(jobId, "res_" + jobId, "local-h100", gpuCount, command, image,
                Map.of("GREETING", "hello"), Duration.ofMinutes(2))).block(Duration.ofSeconds(10));
    }

    /**
     * Until the job has printed its GPUs: its command runs. A job stopped within milliseconds of its launch can outlive
     * the stop (ProcessJobRunner kills the descendants it sees, and the wrapper may fork its command just after).
     */
    private static void awaitStarted(LocalProvider provider, String jobId) {
        await().atMost(Duration.ofSeconds(10)).until(() -> !output(provider, jobId).isEmpty());
    }

    private static List<String> output(LocalProvider provider, String jobId) {
        LogPage page = provider.logs(jobId, null, 100).block(Duration.ofSeconds(10));
        return page.lines();
    }
}
